# Device side of sensor_linear: load the factory calibration (calib.bin), then read the labelled
# samples in batches of 20 (stream_X.f32: 2 float32 features per sample, stream_y.f32: the reference
# value) and, for each batch, first measure the calibration's error on it (prequential: the batch
# is new to the model), then learn from it with one SGD pass (emllinear_train.step, scikit-learn's
# partial_fit). Prints the error of the first and last batches, for the model that keeps learning
# and for the frozen factory calibration, and writes the final weights to final.f32.
# Needs emllinear.mpy, emllinear_train.mpy, calib.bin, stream_X.f32, stream_y.f32 (sensor_host.py).
import array

import emllinear
import emllinear_train

BATCH, NF = 20, 2

with open("calib.bin", "rb") as f:
    model = emllinear.load(f)
with open("calib.bin", "rb") as f:
    frozen = emllinear.load(f)

X = array.array("f", bytes(4 * NF * BATCH))
y = array.array("f", bytes(4 * BATCH))
errors = []
with open("stream_X.f32", "rb") as fx, open("stream_y.f32", "rb") as fy:
    while fx.readinto(X) == len(X) * 4 and fy.readinto(y) == len(y) * 4:
        errors.append((emllinear_train.score_mse(model, X, y), emllinear_train.score_mse(frozen, X, y)))
        emllinear_train.step(model, X, y, learning_rate="constant", eta0=0.02, alpha=1e-4)

print("batches: %d" % len(errors))
print("first batch mse: learning %.7g, frozen %.7g" % errors[0])
print("last batch mse: learning %.7g, frozen %.7g" % errors[-1])
w = array.array("f", [0.0] * NF)
model.coef(w)
b = array.array("f", [0.0])
model.intercept(b)
with open("final.f32", "wb") as f:
    f.write(w)
    f.write(b)
print("coef %.4f %.4f intercept %.4f" % (w[0], w[1], b[0]))
