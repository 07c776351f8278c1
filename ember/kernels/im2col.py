"""im2col and col2im for 2-D convolutions as single loops (see kernels/__init__.py for why).

numpy builds a patch matrix through a 6-D strided view, copying runs of OW values (10 for
LeNet's second layer: 0.5 ms for its 1M values, 8 GB/s), after a padded copy of the input; and
adds columns back onto their windows (col2im) one kernel tap at a time. These loops read the
unpadded input directly: for each (channel, tap, image, output row) they compute the range of
output columns that land inside the image, copy it, and write zeros (or add nothing) outside.

Layouts (those of nn/functional/conv_kernels.py):
    x, gx     (N, C, H, W), C-contiguous, unpadded
    cols      (C, KH, KW, m, OH, OW) for images start..start+m
    geometry  (sh, sw, dh, dw, pt, pl): strides, dilations, top and left padding
"""

from __future__ import annotations

import numpy as np

from .approx import jit_cached


@jit_cached
def _column_range(j, sw, dw, pl, w, ow):  # noqa: ANN001, ANN202 (ints)
    """Output columns q whose input column q*sw + j*dw - pl lies in [0, w): [lo, hi)."""
    offset = j * dw - pl
    lo = 0 if offset >= 0 else (-offset + sw - 1) // sw
    hi = (w - 1 - offset) // sw + 1 if w - 1 - offset >= 0 else 0
    return lo, max(lo, min(hi, ow))


@jit_cached
def _im2col(x, shape, start, sh, sw, dh, dw, pt, pl, zero, cols, cshape):  # noqa: ANN001, ANN202
    # flat arrays and index arithmetic: numba's 6-D indexing made the short copies 2x slower
    c_in, h, w = shape[1], shape[2], shape[3]
    kh, kw, m, oh, ow = cshape[1], cshape[2], cshape[3], cshape[4], cshape[5]
    dst = 0
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                lo, hi = _column_range(j, sw, dw, pl, w, ow)
                offset = j * dw - pl
                for n in range(m):
                    image = ((start + n) * c_in + c) * h * w
                    for r in range(oh):
                        src_h = r * sh + i * dh - pt
                        d = np.uint64(dst)  # unsigned: no negative-index wraparound test
                        if src_h < 0 or src_h >= h:
                            for q in range(ow):
                                cols[d + np.uint64(q)] = zero
                        else:
                            for q in range(lo):
                                cols[d + np.uint64(q)] = zero
                            src = np.uint64(image + src_h * w + offset)
                            if sw == 1:
                                for q in range(lo, hi):
                                    cols[d + np.uint64(q)] = x[src + np.uint64(q)]
                            else:
                                for q in range(lo, hi):
                                    cols[d + np.uint64(q)] = x[src + np.uint64(q * sw)]
                            for q in range(hi, ow):
                                cols[d + np.uint64(q)] = zero
                        dst += ow


@jit_cached
def _im2col_inside(x, shape, start, dh, dw, cols, cshape):  # noqa: ANN001, ANN202
    # stride 1, no padding: every window row lies inside the image, so each output row is one
    # run of OW values with no range to compute (LeNet's 14 -> 10 layer: 0.31 -> 0.21 ms)
    c_in, h, w = shape[1], shape[2], shape[3]
    kh, kw, m, oh, ow = cshape[1], cshape[2], cshape[3], cshape[4], cshape[5]
    dst = 0
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                for n in range(m):
                    src = ((start + n) * c_in + c) * h * w + i * dh * w + j * dw
                    for r in range(oh):
                        d, s = np.uint64(dst), np.uint64(src + r * w)
                        for q in range(ow):
                            cols[d + np.uint64(q)] = x[s + np.uint64(q)]
                        dst += ow


@jit_cached
def _col2im(cols, cshape, start, sh, sw, dh, dw, pt, pl, gx, shape):  # noqa: ANN001, ANN202
    c_in, h, w = shape[1], shape[2], shape[3]
    kh, kw, m, oh, ow = cshape[1], cshape[2], cshape[3], cshape[4], cshape[5]
    src = 0
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                lo, hi = _column_range(j, sw, dw, pl, w, ow)
                offset = j * dw - pl
                for n in range(m):
                    image = ((start + n) * c_in + c) * h * w
                    for r in range(oh):
                        src_h = r * sh + i * dh - pt
                        if src_h >= 0 and src_h < h:
                            dst = np.uint64(image + src_h * w + offset)
                            s0 = np.uint64(src)
                            for q in range(lo, hi):
                                gx[dst + np.uint64(q * sw)] += cols[s0 + np.uint64(q)]
                        src += ow


@jit_cached
def _col2im_inside(cols, cshape, start, dh, dw, gx, shape):  # noqa: ANN001, ANN202
    # the adjoint of _im2col_inside: each column row added onto one run of the image
    c_in, h, w = shape[1], shape[2], shape[3]
    kh, kw, m, oh, ow = cshape[1], cshape[2], cshape[3], cshape[4], cshape[5]
    src = 0
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                for n in range(m):
                    dst = ((start + n) * c_in + c) * h * w + i * dh * w + j * dw
                    for r in range(oh):
                        d, s = np.uint64(dst + r * w), np.uint64(src)
                        for q in range(ow):
                            gx[d + np.uint64(q)] += cols[s + np.uint64(q)]
                        src += ow


def _inside(geometry: tuple, cshape: tuple, shape: tuple) -> bool:
    """Whether every window lies inside the image, read with stride 1 (no padding reached)."""
    sh, sw, dh, dw, pt, pl = geometry
    _, kh, kw, _, oh, ow = cshape
    return (sh == sw == 1 and pt == pl == 0 and oh + (kh - 1) * dh <= shape[2]
            and ow + (kw - 1) * dw <= shape[3])


def im2col(x: np.ndarray, start: int, geometry: tuple, cols: np.ndarray) -> None:
    """Write the patches of images start..start+m of x into cols (C, KH, KW, m, OH, OW)."""
    if _inside(geometry, cols.shape, x.shape):
        _im2col_inside(x.reshape(-1), np.array(x.shape), start, geometry[2], geometry[3],
                       cols.reshape(-1), np.array(cols.shape))
        return
    _im2col(x.reshape(-1), np.array(x.shape), start, *geometry, x.dtype.type(0),
            cols.reshape(-1), np.array(cols.shape))


def col2im(cols: np.ndarray, start: int, geometry: tuple, gx: np.ndarray) -> None:
    """gx[start:start+m] += every column of cols added back onto its window."""
    if _inside(geometry, cols.shape, gx.shape):
        _col2im_inside(cols.reshape(-1), np.array(cols.shape), start, geometry[2], geometry[3],
                       gx.reshape(-1), np.array(gx.shape))
        return
    _col2im(cols.reshape(-1), np.array(cols.shape), start, *geometry, gx.reshape(-1),
            np.array(gx.shape))
