"""Synthetic accelerometer dataset for human activity recognition (host side, seeded).

A phone-like 3-axis accelerometer on the hip samples at 50 Hz (int16 counts, +-8 g range,
4096 counts per g, like an MPU-6050 at +-8 g). Each window is 128 samples (2.56 s).
Classes: still (sitting or standing), walking, running, stairs (up or down).

Per subject: cadence and amplitude factors, gait asymmetry and the orientation of the phone in
the pocket. Per window: cadence drift, amplitude, phase noise (irregular steps), orientation
jitter, sensor noise and a slowly varying offset. The classes overlap a little (slow walkers vs
stairs, shuffling vs still), so accuracy is realistic rather than perfect.
"""
from __future__ import annotations

import numpy as np

RATE_HZ = 50.0
WINDOW = 128
COUNTS_PER_G = 4096
CLASSES = ("still", "walking", "running", "stairs")

# (step frequency range in Hz, vertical amplitude range in g, forward/vertical ratio,
#  sideways/vertical ratio, harmonic content, phase noise in rad per sqrt(s))
_GAIT = {
    1: ((1.55, 2.15), (0.20, 0.45), 0.55, 0.30, 0.35, 0.6),
    2: ((2.35, 3.10), (0.70, 1.60), 0.45, 0.25, 0.60, 0.5),
    3: ((1.25, 1.75), (0.25, 0.55), 0.40, 0.45, 0.55, 1.3),
}


def _rotation(rng: np.random.Generator, sigma_deg: np.ndarray) -> np.ndarray:
    """Rotation matrix from small random roll/pitch/yaw angles (degrees, per-axis sigma)."""
    r, p, y = np.deg2rad(rng.normal(0.0, sigma_deg))
    rx = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])
    ry = np.array([[np.cos(p), 0, np.sin(p)], [0, 1, 0], [-np.sin(p), 0, np.cos(p)]])
    rz = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _window(rng: np.random.Generator, label: int, subject: dict) -> np.ndarray:
    """One window in g, shape (WINDOW, 3), body frame (x forward, y sideways, z vertical)."""
    t = np.arange(WINDOW) / RATE_HZ
    body = np.zeros((WINDOW, 3))
    body[:, 2] = 1.0  # gravity (the sensor measures +1 g upwards at rest)
    if label == 0:
        # still: breathing/postural sway and occasional fidgeting
        body[:, 0] += 0.01 * np.sin(2 * np.pi * rng.uniform(0.2, 0.4) * t + rng.uniform(0, 2 * np.pi))
        if rng.random() < 0.3:
            centre, width = rng.uniform(0.3, 2.2), rng.uniform(0.1, 0.4)
            bump = np.exp(-0.5 * ((t - centre) / width) ** 2)
            body += bump[:, None] * rng.normal(0.0, 0.08, size=3)
        noise = 0.012
    else:
        (f_lo, f_hi), (a_lo, a_hi), fwd, side, harm, pnoise = _GAIT[label]
        f0 = rng.uniform(f_lo, f_hi) * subject["cadence"]
        drift = rng.normal(0.0, 0.04) * f0  # Hz change over the window
        phase_noise = np.cumsum(rng.normal(0.0, pnoise / np.sqrt(RATE_HZ), size=WINDOW))
        phase = 2 * np.pi * (f0 * t + 0.5 * drift * t * t / t[-1]) + rng.uniform(0, 2 * np.pi) + phase_noise
        amp = rng.uniform(a_lo, a_hi) * subject["amplitude"]
        vert = np.sin(phase) + harm * np.sin(2 * phase + 0.7) + 0.5 * harm * np.sin(3 * phase + 1.9)
        if label == 2:  # running: sharp heel strikes
            vert += 0.8 * np.maximum(np.sin(phase - 0.4), 0.0) ** 6
        if label == 3:  # stairs: every other step is a lift, the stride frequency shows up
            vert += subject["asym"] * 1.5 * np.sin(0.5 * phase + 0.3)
        body[:, 2] += amp * vert
        body[:, 0] += amp * fwd * (np.sin(phase + 1.2) + 0.3 * np.sin(2 * phase))
        body[:, 1] += amp * side * (np.sin(0.5 * phase + subject["sway"]) + subject["asym"] * np.sin(phase))
        noise = 0.03 if label != 2 else 0.06
    rot = subject["rotation"] @ _rotation(rng, np.array([4.0, 4.0, 8.0]))
    g = body @ rot.T
    g += rng.normal(0.0, noise, size=g.shape) + rng.normal(0.0, 0.02, size=3)  # noise, offset
    return g


def make_subject(rng: np.random.Generator) -> dict:
    return {
        "cadence": rng.normal(1.0, 0.07),
        "amplitude": rng.lognormal(0.0, 0.2),
        "asym": rng.uniform(0.05, 0.25),
        "sway": rng.uniform(0, 2 * np.pi),
        # phone in a trouser pocket: roughly upright, each subject a little different
        "rotation": _rotation(rng, np.array([20.0, 20.0, 40.0])),
    }


def make_dataset(n_subjects: int, windows_per_class: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns (raw int16 counts of shape (n, WINDOW, 3), labels (n,), subject ids (n,))."""
    rng = np.random.default_rng(seed)
    raw, labels, subjects = [], [], []
    for s in range(n_subjects):
        subject = make_subject(rng)
        for label in range(len(CLASSES)):
            for _ in range(windows_per_class):
                g = _window(rng, label, subject)
                raw.append(np.clip(np.round(g * COUNTS_PER_G), -32768, 32767).astype(np.int16))
                labels.append(label)
                subjects.append(s)
    return np.stack(raw), np.array(labels, dtype=np.int64), np.array(subjects, dtype=np.int64)
