"""Array-level convolution kernels: how conv2d is made fast on numpy (and cupy).

A convolution is W (O x C*KH*KW) times the im2col matrix (C*KH*KW x N*OH*OW). That matrix is
KH*KW times bigger than the input, and the product is memory-bound when O is small (it streams
the matrix once per 2*O flops). So the matrix is built and multiplied a chunk of images at a
time, in a buffer of about CHUNK_BYTES that stays in cache: measured on this 2-core machine, a
ResNet-20 layer (64 x 16 x 32 x 32, 3x3) forward + backward went from 45 ms to about 20 ms.

Stride 1 (most layers): the windows of one channel and one kernel tap are OH runs of OW values,
each a slice of a padded row. Read with the padded width Wp instead of OW, they are one run of
OH*Wp values, which copies at memory speed (1.6x the strided gather): the product then has
Wp - OW junk columns per output row, dropped when it is stored (and zeros there in dY for the
weight gradient).

Layouts: the product comes out (O, N*OH*OW); conv2d's output is copied into torch's contiguous
(N, O, OH, OW) one cache-sized chunk at a time (a whole-array copy afterwards cost 10% more).
"""

from __future__ import annotations

from typing import Any

from ... import kernels
from ...backend import module_of, numpy, reshape_view
from .fold import add_windows, pad_spatial, windows

CHUNK_BYTES = 4 << 20  # the im2col buffer per chunk (measured: 2-4 MiB is the sweet spot)
# ...unless the product has under FEW_OUTPUTS output channels: then it does 2 * O flops per
# patch value and only streams the matrix, so the chunk should stay in L2. LeNet's first layer
# (O = 6, 25 rows): forward 0.69 -> 0.47 ms, weight gradient 1.24 -> 0.52 ms with 512 KiB;
# layers with O >= 16 (ResNet-20's, LeNet's second) are 10-40% slower with it
FEW_OUTPUTS, SMALL_CHUNK_BYTES = 16, 512 << 10
GPU_CHUNK_BYTES = 1 << 30  # on a GPU: the whole batch unless its patch matrix passes 1 GiB


def _compiled_for(a: Any, size: int) -> bool:
    """Whether kernels/im2col.py may run on arrays it creates itself, of `size` values in the
    dtype of numpy array `a` (kernels.usable_float's rules for arrays that do not exist yet)."""
    return a.__class__ is numpy.ndarray and a.dtype.type in kernels.FLOATS \
        and size >= kernels.MIN_ELEMENTS and kernels.is_enabled()


def _batch_chunk(n: int, rows: int, positions: int, itemsize: int, xp: Any = None,
                 outputs: int = FEW_OUTPUTS) -> int:
    """Images per patch-matrix chunk: cache-sized on the CPU; on a GPU as many as fit in
    GPU_CHUNK_BYTES, since each chunk costs kernel launches and a GPU has no cache to fit
    (measured on an H100: ResNet-20 ran 482 chunk copies and 360 products per step)."""
    budget = CHUNK_BYTES if outputs >= FEW_OUTPUTS else SMALL_CHUNK_BYTES
    if xp is not None and xp.__name__ != "numpy":
        budget = GPU_CHUNK_BYTES
    return max(1, min(n, budget // max(rows * positions * itemsize, 1)))


def _chunks(n: int, step: int) -> Any:
    for start in range(0, n, step):
        yield start, min(start + step, n)


class _Columns:
    """Chunks of the im2col matrix of a padded input, written into one reused buffer.

    `width` is OW, or Wp (the padded width) in the stride-1 `wide` layout, whose columns are
    laid out (OH, Wp) per image with junk in the last Wp - OW of each row.
    """

    def __init__(self, x: Any, kernel: tuple, stride: tuple, dilation: tuple, out: tuple,
                 pads: tuple = (0, 0, 0, 0), outputs: int = FEW_OUTPUTS) -> None:
        """x (N, C, H, W) with `pads` (top, bottom, left, right) of zeros around it: the wide
        layout writes the padded image straight into its own buffer (one copy, not two)."""
        self.xp = xp = module_of(x)
        n, self.c = x.shape[:2]
        hp, wp = x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3]
        self.kernel, self.out = kernel, out
        self.rows = self.c * kernel[0] * kernel[1]
        # stride 1, and at most 1 junk column in 4 (else the bigger product costs more than
        # the faster copy saves: LeNet's 10-wide output of a 14-wide input). A 7x7 image
        # padded to 9 (2 in 9, Fashion-MNIST ResNet's last stage) is 10% faster wide (fwd+bwd
        # 17.0 -> 15.3 ms at 128 x 64 x 7 x 7): its rows of 7 are too short for im2col.py
        self.wide = tuple(stride) == (1, 1) and 4 * (wp - out[1]) <= wp
        if self.wide:
            self.width = wp
            size = n * self.c * hp * wp
            # wp spare values at the end: the junk columns of the last rows read past the image
            flat = xp.zeros(size + wp, dtype=x.dtype)
            flat[:size].reshape(n, self.c, hp, wp)[
                :, :, pads[0]:pads[0] + x.shape[2], pads[2]:pads[2] + x.shape[3]] = x
            it = x.itemsize
            self.view = xp.lib.stride_tricks.as_strided(
                flat, (self.c,) + tuple(kernel) + (n, out[0] * wp),
                (hp * wp * it, dilation[0] * wp * it, dilation[1] * it, self.c * hp * wp * it, it))
        else:
            self.width = out[1]
            self.view = None
            if kernels.usable_float(x):  # kernels/im2col.py reads x unpadded: no padded copy
                self.x = x
                self.geometry = (stride[0], stride[1], dilation[0], dilation[1], pads[0], pads[2])
            else:  # (N, C, KH, KW, OH, OW)
                self.view = windows(pad_spatial(x, pads), kernel, stride, dilation, out)
        self.positions = out[0] * self.width
        self.step = _batch_chunk(n, self.rows, self.positions, x.itemsize, xp, outputs)
        self.flat = xp.empty(self.rows * self.step * self.positions, dtype=x.dtype)

    def __call__(self, start: int, end: int) -> Any:
        """The (C*KH*KW, m*OH*width) columns of images start..end."""
        m = end - start
        if self.wide:
            cols = self.flat[:self.rows * m * self.positions].reshape(
                (self.c,) + tuple(self.kernel) + (m, self.positions))
            cols[...] = self.view[:, :, :, start:end]
        else:
            cols = self.flat[:self.rows * m * self.positions].reshape(
                (self.c,) + tuple(self.kernel) + (m,) + tuple(self.out))
            if self.view is None:
                kernels.load("im2col").im2col(self.x, start, self.geometry, cols)
            else:
                cols[...] = self.view[start:end].transpose(1, 2, 3, 0, 4, 5)
        return cols.reshape(self.rows, m * self.positions)


def conv_forward(x: Any, weight: Any, stride: tuple, dilation: tuple, out: tuple,
                 groups: int, batch_major: bool = False, pads: tuple = (0, 0, 0, 0),
                 bias: Any = None) -> Any:
    """y = W @ im2col(x padded by `pads`), chunk by chunk: returns (O, N, OH, OW), or with
    `batch_major` torch's contiguous (N, O, OH, OW) + bias, transposed one chunk at a time
    while the product is in cache, the bias added in that same pass (conv2d's output)."""
    if bias is not None and not batch_major:
        raise ValueError("conv_forward: a bias is added in the batch-major pass only")
    xp = module_of(x)
    n = x.shape[0]
    o, cg, kh, kw = weight.shape
    columns = _Columns(x, (kh, kw), stride, dilation, out, pads, o // groups)
    w_mat = weight.reshape(groups, o // groups, cg * kh * kw)
    y = xp.empty(((n, o) if batch_major else (o, n)) + tuple(out), dtype=x.dtype)
    scratch = xp.empty(o * columns.step * columns.positions, dtype=x.dtype) \
        if columns.wide or batch_major else None
    for start, end in _chunks(n, columns.step):
        cols = columns(start, end).reshape(groups, cg * kh * kw, -1)
        if scratch is None:  # the product goes straight into y
            target = reshape_view(y[:, start:end], (groups, o // groups, -1))
            xp.matmul(w_mat, cols, out=target)
            continue
        m = end - start
        product = scratch[:o * m * columns.positions]
        xp.matmul(w_mat, cols, out=product.reshape(groups, o // groups, -1))
        chunk = product.reshape(o, m, out[0], columns.width)[..., :out[1]]
        if batch_major and bias is not None:
            xp.add(chunk.transpose(1, 0, 2, 3), bias[:, None, None], out=y[start:end])
        elif batch_major:
            y[start:end] = chunk.transpose(1, 0, 2, 3)
        else:
            y[:, start:end] = chunk
    return y


def conv_weight_grad(x: Any, grad_onp: Any, weight_shape: tuple, stride: tuple,
                     dilation: tuple, groups: int, pads: tuple = (0, 0, 0, 0)) -> Any:
    """dW = dY @ im2col(x padded by `pads`)^T, summed over chunks. grad_onp is dY as
    (O, N, OH, OW)."""
    xp = module_of(x)
    o, cg, kh, kw = weight_shape
    columns = _Columns(x, (kh, kw), stride, dilation, tuple(grad_onp.shape[2:]), pads,
                       o // groups)
    # accumulated transposed, as cols @ dY^T: OpenBLAS runs that shape ~1.8x faster than
    # dY @ cols^T (measured: 16 x 6528 by 6528 x 144 at 41 GFLOP/s, transposed at 73)
    gw_t = xp.zeros((groups, cg * kh * kw, o // groups), dtype=grad_onp.dtype)
    oh, ow = grad_onp.shape[2:]
    # dY in the wide layout: zeros in the junk columns (they stay zero: only [..., :OW] is set)
    wide = xp.zeros(o * columns.step * columns.positions, dtype=grad_onp.dtype) \
        if columns.wide else None
    for start, end in _chunks(x.shape[0], columns.step):
        cols = columns(start, end).reshape(groups, cg * kh * kw, -1)
        g = grad_onp[:, start:end]
        if wide is not None:
            m = end - start
            g_wide = wide[:o * m * columns.positions].reshape(o, m, oh, columns.width)
            g_wide[..., :ow] = g
            g = g_wide
        gw_t += cols @ g.reshape(groups, o // groups, -1).transpose(0, 2, 1)
    return gw_t.transpose(0, 2, 1).reshape(weight_shape)


def conv_input_grad(grad_onp: Any, weight: Any, in_shape: tuple, stride: tuple, padding: tuple,
                    dilation: tuple, groups: int) -> Any:
    """dX as (N, C, H, W). Either a convolution of dY with the flipped, transposed kernel
    (stride 1; its im2col matrix has O*KK rows), or W^T @ dY scattered back onto the windows
    (col2im; C*KK rows): whichever moves fewer bytes, chunk by chunk."""
    xp = module_of(grad_onp)
    n, c, h, w = in_shape
    o, cg, kh, kw = weight.shape
    og = o // groups
    if stride == (1, 1) and o <= c:
        flipped = weight.reshape(groups, og, cg, kh, kw)[:, :, :, ::-1, ::-1]
        flipped = xp.ascontiguousarray(flipped.transpose(0, 2, 1, 3, 4)).reshape(c, og, kh, kw)
        reach = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
        grad_nchw = grad_onp.transpose(1, 0, 2, 3)
        if padding[0] <= reach[0] and padding[1] <= reach[1]:
            pads = (reach[0] - padding[0],) * 2 + (reach[1] - padding[1],) * 2
            return conv_forward(grad_nchw, flipped, (1, 1), dilation, (h, w), groups,
                                batch_major=True, pads=pads)
        full = conv_forward(grad_nchw, flipped, (1, 1), dilation,
                            (h + 2 * padding[0], w + 2 * padding[1]), groups, batch_major=True,
                            pads=(reach[0],) * 2 + (reach[1],) * 2)
        return full[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]
    oh, ow = grad_onp.shape[2:]
    w_t = weight.reshape(groups, og, cg * kh * kw).transpose(0, 2, 1)  # (G, Cg*KK, Og)
    step = _batch_chunk(n, c * kh * kw, oh * ow, grad_onp.itemsize, xp)
    if _compiled_for(grad_onp, n * c * h * w):  # kernels/im2col.py adds straight into dX
        gx = xp.zeros(in_shape, dtype=grad_onp.dtype)
        geometry = (stride[0], stride[1], dilation[0], dilation[1], padding[0], padding[1])
        for start, end in _chunks(n, step):
            m = end - start
            g = grad_onp[:, start:end].reshape(groups, og, m * oh * ow)
            g_cols = (w_t @ g).reshape(c, kh, kw, m, oh, ow)
            kernels.load("im2col").col2im(g_cols, start, geometry, gx)
        return gx
    gpad = xp.zeros((c, n, h + 2 * padding[0], w + 2 * padding[1]), dtype=grad_onp.dtype)
    for start, end in _chunks(n, step):
        m = end - start
        g = grad_onp[:, start:end].reshape(groups, og, m * oh * ow)
        g_cols = (w_t @ g).reshape(c, kh, kw, m, oh, ow).transpose(0, 3, 1, 2, 4, 5)
        add_windows(gpad[:, start:end], g_cols, (kh, kw), stride, dilation)
    return gpad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w].transpose(1, 0, 2, 3)
