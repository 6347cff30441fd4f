# Device side: A-weighted sound level of a WAV file, streamed in chunks through emliir.
# Needs emliir.mpy, aweighting.bin and test.wav (from soundlevel_host.py).
import array
import math
import struct

import emliir

CHUNK = 512           # samples read and filtered at a time (any size works: the filter keeps state)
WINDOW_MS = 125

with open('aweighting.bin', 'rb') as f:
    coefficients = array.array('f', f.read())
aweight = emliir.new(coefficients)

raw = array.array('h', bytes(2 * CHUNK))
x = array.array('f', bytes(4 * CHUNK))
with open('test.wav', 'rb') as f:
    (riff, _, wave_id, fmt_id, _, audio_format, channels, rate, _, _, bits,
     data_id, data_bytes) = struct.unpack('<4sI4s4sIHHIIHH4sI', f.read(44))
    if riff != b'RIFF' or wave_id != b'WAVE' or fmt_id != b'fmt ' or data_id != b'data':
        raise ValueError('not a canonical 44-byte-header WAV file')
    if audio_format != 1 or channels != 1 or bits != 16:
        raise ValueError('need 16-bit PCM mono')
    window = rate * WINDOW_MS // 1000
    print('wav', rate, 'Hz', data_bytes // 2, 'samples, window', window, 'samples')
    left = data_bytes // 2
    acc = 0.0
    count = 0
    index = 0
    while left > 0:
        n = f.readinto(raw) // 2
        if n <= 0:
            break
        n = min(n, left)
        left -= n
        for i in range(n):
            x[i] = raw[i] / 32768       # full scale = 1.0 (exact: a power of two)
        if n < CHUNK:                    # last, short chunk
            y = array.array('f', x[:n])
            aweight.run(y)
        else:
            y = x
            aweight.run(y)               # in place; state carries over to the next chunk
        for i in range(n):
            acc += y[i] * y[i]
            count += 1
            if count == window:
                print('level %d %.3f' % (index, 10 * math.log10(acc / window)))  # dB(A) re full scale
                index += 1
                acc = 0.0
                count = 0
