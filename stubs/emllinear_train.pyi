"""Optional on-device training for emllinear.LinearModel (a regressor with one output): scikit-learn's
SGDRegressor procedure (shuffle=False, squared loss, L2/L1/elastic-net penalty, 'constant' or
'invscaling' learning rate, its stopping rule) in float32 (docs/emllinear.md, cores/emlc_linear.h).
A separate module so that boards that only predict do not carry it.

X: array('f') or array('h') of n_samples * n_features values; y: array('f') of n_samples targets;
all finite. Penalties as scikit-learn's: penalty='l2' is l1_ratio=0 (the default), 'l1' is
l1_ratio=1, 'elasticnet' any l1_ratio in 0..1, None is alpha=0. Training allocates
4 * (2 * n_features + 1) bytes of scratch for the call. When the weights or the objective overflow
float32 the call raises ValueError and the weights are restored to what they were before it.
learning_rate is the string 'invscaling' or 'constant' (anything else: ValueError). A call runs in
native code and cannot be interrupted with Ctrl-C: bound epochs, or call step in a Python loop."""
from array import array

from emllinear import LinearModel


def step(model: LinearModel, X: array, y: array, learning_rate: str = "invscaling", eta0: float = 0.01,
         power_t: float = 0.25, alpha: float = 0.0001, l1_ratio: float = 0.0) -> float:
    """One SGD pass over the samples in order (scikit-learn's partial_fit): the learning-rate
    schedule's sample counter carries over from earlier calls, the L1 state starts afresh. Returns
    the pass's mean squared loss, mean of 0.5 * (p - y)**2 with p computed before each update."""


def train(model: LinearModel, X: array, y: array, learning_rate: str = "invscaling", eta0: float = 0.01,
          power_t: float = 0.25, alpha: float = 0.0001, l1_ratio: float = 0.0, epochs: int = 1000,
          tol: float | None = 1e-3, n_iter_no_change: int = 5) -> int:
    """Passes (epochs) over the samples (scikit-learn's fit from the model's current weights, its
    max_iter = epochs) until the stopping rule: an epoch whose mean objective (loss + alpha *
    ((1 - l1_ratio) / 2 * |coef|^2 + l1_ratio * |coef|_1)) is above best - tol counts as no
    improvement; n_iter_no_change of them in a row stop training (tol None: run all epochs).
    Returns the epochs run (scikit-learn's n_iter_)."""


def score_mse(model: LinearModel, X: array, y: array) -> float:
    """Mean squared error of the model's predictions on X against y (float32 sum in sample order,
    divided by n_samples); ValueError('score overflow') when a score or the sum overflows float32."""
