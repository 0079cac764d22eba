"""Plain-numpy / plain-Python twins of the event kernels, for tests only.

They are written independently of the numba kernels (dictionaries instead of per-pixel arrays, loops
over frame intervals vectorised over pixels instead of loops over pixels) so that the tests compare two
formulations of the same definition.
"""

from __future__ import annotations

import numpy as np

__all__ = ["refractory_ref", "denoise_ref", "frames_by_time_ref", "voxel_grid_ref", "dvs_reference"]


def refractory_ref(t, x, y, refractory_us) -> np.ndarray:
    """Keep-mask of the per-pixel dead-time filter (see ``events.refractory_kernel``)."""
    last: dict[tuple[int, int], int] = {}
    keep = np.zeros(len(t), dtype=bool)
    for i, (ti, xi, yi) in enumerate(zip(t.tolist(), x.tolist(), y.tolist(), strict=True)):
        prev = last.get((xi, yi))
        if prev is None or ti - prev >= refractory_us:
            keep[i] = True
            last[(xi, yi)] = ti
    return keep


def denoise_ref(t, x, y, filter_us, neighbourhood=8) -> np.ndarray:
    """Keep-mask of the background-activity filter (see ``events.denoise_kernel``)."""
    last: dict[tuple[int, int], int] = {}
    if neighbourhood == 8:
        offsets = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0)]
    else:
        offsets = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    keep = np.zeros(len(t), dtype=bool)
    for i, (ti, xi, yi) in enumerate(zip(t.tolist(), x.tolist(), y.tolist(), strict=True)):
        keep[i] = any(ti - last[(xi + dx, yi + dy)] < filter_us for dx, dy in offsets if (xi + dx, yi + dy) in last)
        last[(xi, yi)] = ti
    return keep


def frames_by_time_ref(events, sensor_size, n_bins, t_start_us, t_stop_us) -> np.ndarray:
    """Event counts per (bin, polarity, y, x) by an explicit loop with float bin edges."""
    w, h = sensor_size
    out = np.zeros((n_bins, 2, h, w), dtype=np.int64)
    edges = [t_start_us + k * (t_stop_us - t_start_us) / n_bins for k in range(n_bins + 1)]
    for e in events:
        for k in range(n_bins):
            if edges[k] <= e["t"] < edges[k + 1]:
                out[k, e["p"], e["y"], e["x"]] += 1
    return out


def voxel_grid_ref(events, sensor_size, n_bins) -> np.ndarray:
    """Zhu et al. (2019) voxel grid by the formula V = sum_i s_i max(0, 1 - |b - t*_i|) over every bin b."""
    w, h = sensor_size
    out = np.zeros((n_bins, h, w))
    if len(events) == 0:
        return out
    t0, t1 = float(events["t"][0]), float(events["t"][-1])
    for e in events:
        ts = (n_bins - 1) * (float(e["t"]) - t0) / (t1 - t0) if t1 > t0 else 0.0
        s = 1.0 if e["p"] > 0 else -1.0
        for b in range(n_bins):
            out[b, e["y"], e["x"]] += s * max(0.0, 1.0 - abs(b - ts))
    return out


def dvs_reference(log_frames, times_us, ref, theta_on, theta_off, drift, refractory_us):
    """Twin of ``dvs.dvs_kernel``: interval by interval, all pixels at once.

    Returns ``(t_us, pixel, polarity)`` arrays of the emitted events (unsorted) and the final reference.
    """
    log_frames = np.asarray(log_frames, dtype=np.float64)
    n_frames, n_pix = log_frames.shape
    ref = np.array(ref, dtype=np.float64)
    last = np.full(n_pix, -np.inf)
    ts, ks, ps = [], [], []
    for f in range(n_frames - 1):
        t_start = np.full(n_pix, times_us[f])
        t_end = times_us[f + 1]
        # relative signal at the segment start and at the interval end
        d0 = log_frames[f] - ref
        d1 = log_frames[f + 1] - ref + drift * (t_end - t_start)
        while True:
            up = (d1 > d0) & (d1 >= theta_on)
            down = (d1 < d0) & (d1 <= -theta_off) & ~up
            active = up | down
            if not active.any():
                break
            level = np.where(up, theta_on, -theta_off)
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.clip((level - d0) / (d1 - d0), 0.0, None)
            tc = t_start + frac * (t_end - t_start)
            for k in np.flatnonzero(active):
                if tc[k] - last[k] >= refractory_us:
                    ts.append(tc[k])
                    ks.append(k)
                    ps.append(1 if up[k] else 0)
                    last[k] = tc[k]
            ref = np.where(active, ref + level - drift * (tc - t_start), ref)
            d1 = np.where(active, d1 - level, d1)
            d0 = np.where(active, 0.0, d0)
            t_start = np.where(active, tc, t_start)
        ref = ref - drift * (t_end - t_start)
    return np.array(ts, dtype=np.float64), np.array(ks, dtype=np.int64), np.array(ps, dtype=np.int8), ref
