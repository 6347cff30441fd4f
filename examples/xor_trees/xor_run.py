import emltrees
import array
model = emltrees.new(5, 30)   # ensemble of up to 5 trees and 30 decision nodes
with open('xor_model.csv', 'r') as f:
    emltrees.load_model(model, f)
for ex in [array.array('f', [0.0, 0.0]), array.array('f', [1.0, 1.0]), array.array('f', [0.0, 1.0]), array.array('f', [1.0, 0.0])]:
    print(ex, model.predict(ex))
