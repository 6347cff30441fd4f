import emltrees
import array
with open('xor_model.bin', 'rb') as f:
    model = emltrees.load(f)   # a model of exactly the file's size
for ex in [array.array('f', [0.0, 0.0]), array.array('f', [1.0, 1.0]), array.array('f', [0.0, 1.0]), array.array('f', [1.0, 0.0])]:
    print(ex, model.predict(ex))
