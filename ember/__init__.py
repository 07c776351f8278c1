"""Ember: a deep-learning framework you can read from `loss.backward()` down to the array math.

The API is PyTorch's: `import ember as torch` runs torch tensor code. Arrays are numpy on CPU
and cupy on GPU (see `ember.backend`).
"""

from __future__ import annotations

import math as _math

from . import backend as _backend

_backend.tune_malloc()

from . import dtypes as _dtypes  # noqa: E402
from .backend import device, get_default_device, set_default_device  # noqa: E402
from .dtypes import (  # noqa: E402
    bfloat16,
    bool_ as bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    set_default_dtype,
    uint8,
)
from .size import Size  # noqa: E402
from .tensor import Tensor  # noqa: E402

from . import autograd, cuda, nn, return_types, utils  # noqa: E402
from . import optim  # noqa: E402
from ._tensor_str import set_printoptions  # noqa: E402
from .autograd.grad_mode import (  # noqa: E402
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (  # noqa: E402
    arange,
    as_tensor,
    asarray,
    diag,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    meshgrid,
    ones,
    ones_like,
    range_ as range,
    scalar_tensor,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from .ops.shape import diagonal  # noqa: E402,F401
from .ops._util import broadcast_shapes  # noqa: E402
from .ops.arith import (  # noqa: E402
    add,
    addcdiv,
    addcmul,
    arctan2,
    atan2,
    div,
    divide,
    float_power,
    floor_divide,
    fmax,
    fmin,
    fmod,
    maximum,
    minimum,
    mul,
    multiply,
    pow,
    remainder,
    rsub,
    sub,
    subtract,
    true_divide,
)
from .ops.compare import (  # noqa: E402
    allclose,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    not_equal,
    signbit,
)
from .ops.convert import to as _to  # noqa: E402,F401
from .ops.indexing import (  # noqa: E402
    argwhere,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    nonzero_static,
    scatter,
    scatter_add,
    scatter_reduce,
    take,
    take_along_dim,
    where,
)
from .ops.join import (  # noqa: E402
    cat,
    chunk,
    column_stack,
    concat,
    concatenate,
    dstack,
    hstack,
    narrow,
    row_stack,
    split,
    stack,
    tensor_split,
    unbind,
    vstack,
)
from .ops.linalg import (  # noqa: E402
    addmm,
    addmv,
    baddbmm,
    bmm,
    dot,
    einsum,
    ger,
    inner,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
    vdot,
)
from .ops.reduce import (  # noqa: E402
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumprod,
    cumsum,
    logsumexp,
    max,
    mean,
    median,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.shape import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    broadcast_tensors,
    broadcast_to,
    clone,
    flatten,
    flip,
    fliplr,
    flipud,
    movedim,
    moveaxis,
    permute,
    ravel,
    repeat_interleave,
    reshape,
    roll,
    squeeze,
    swapaxes,
    swapdims,
    t,
    tile,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
)
from .ops.softmax import log_softmax, softmax  # noqa: E402
from .ops.sort import argsort, kthvalue, msort, sort, topk, unique, unique_consecutive  # noqa: E402
from .ops.unary import (  # noqa: E402
    abs,
    absolute,
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    cosh,
    erf,
    erfc,
    erfinv,
    exp,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    lerp,
    log,
    log1p,
    log2,
    log10,
    logit,
    nan_to_num,
    neg,
    negative,
    reciprocal,
    relu,
    round,
    rsqrt,
    sgn,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
    trunc,
)
from .random import (  # noqa: E402
    Generator,
    bernoulli,
    binomial,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .ops.decomp import (  # noqa: E402
    cholesky,
    det,
    logdet,
    matrix_power,
    pinv as pinverse,
    torch_slogdet as slogdet,
    torch_svd as svd,
)
from .ops.decomp import inv as inverse  # noqa: E402
from .dtypes import layout, sparse_coo, sparse_csr, strided  # noqa: E402,F401
from .ops.matfun import _weight_norm, geqrf, matrix_exp, norm_except_dim, ormqr  # noqa: E402,F401
from .ops.matfun import householder_product as orgqr  # noqa: E402,F401
from .ops.toplevel import (  # noqa: E402,F401
    bartlett_window,
    batch_norm,
    blackman_window,
    cdist,
    chain_matmul,
    combinations,
    cumulative_trapezoid,
    dropout,
    embedding,
    gradient,
    group_norm,
    hamming_window,
    hann_window,
    histogram,
    instance_norm,
    is_complex,
    is_signed,
    isin,
    kaiser_window,
    layer_norm,
    pdist,
    unravel_index,
    vander,
)
from .nn.functional import (  # noqa: E402,F401 (torch's top-level spellings, same signatures)
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    alpha_dropout,
    avg_pool1d,
    bilinear,
    celu,
    channel_shuffle,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    cosine_similarity,
    feature_alpha_dropout,
    hardshrink,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    pairwise_distance,
    pixel_shuffle,
    pixel_unshuffle,
    prelu,
    rrelu,
    selu,
)
from .ops.composite import (  # noqa: E402,F401
    addbmm,
    cholesky_inverse,
    cholesky_solve,
    diagflat,
    diagonal_scatter,
    dsplit,
    hsplit,
    i0,
    is_nonzero,
    is_same_size,
    narrow_copy,
    select_scatter,
    slice_scatter,
    split_with_sizes,
    vsplit,
)
from .ops.layout import (  # noqa: E402
    addr,
    atleast_3d,
    block_diag,
    diag_embed,
    kron,
    masked_scatter,
    put,
    rot90,
    select,
)
from .ops.complex import (  # noqa: E402
    angle,
    complex,
    conj,
    conj_physical,
    imag,
    is_conj,
    isreal,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    view_as_complex,
    view_as_real,
)
from .ops.foreach import FOREACH_OPS as _FOREACH_OPS  # noqa: E402  (torch._foreach_*)

globals().update(_FOREACH_OPS)
from .ops.pointwise import (  # noqa: E402
    cartesian_prod,
    copysign,
    cross,
    deg2rad,
    diff,
    digamma,
    frexp,
    gcd,
    heaviside,
    hypot,
    lcm,
    ldexp,
    lgamma,
    logaddexp,
    logaddexp2,
    mvlgamma,
    nextafter,
    polygamma,
    positive,
    rad2deg,
    sinc,
    trapezoid,
    trapz,
    xlogy,
)
from .ops.stats import (  # noqa: E402
    aminmax,
    bincount,
    bucketize,
    corrcoef,
    cov,
    cummax,
    cummin,
    dist,
    histc,
    logcumsumexp,
    mode,
    nanmedian,
    nanquantile,
    quantile,
    renorm,
    searchsorted,
)
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: E402
from .autograd.anomaly_mode import is_anomaly_enabled, set_detect_anomaly  # noqa: E402
from . import linalg, special  # noqa: E402
from . import fft  # noqa: E402
from .ops.spectral import istft, stft  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import datasets  # noqa: E402
from .summary import summary  # noqa: E402

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan

from . import accelerator, amp, backends, distributions, func, jit, testing  # noqa: E402
from .autograd import functional as _autograd_functional  # noqa: E402,F401 (autograd.functional)
from .autograd import forward_ad as _forward_ad  # noqa: E402,F401 (autograd.forward_ad)
from . import profiler  # noqa: E402
from . import sparse  # noqa: E402 (torch.sparse)
from .sparse import hspmm, smm, sparse_coo_tensor, sparse_csr_tensor  # noqa: E402,F401
from .autograd import profiler as _autograd_profiler  # noqa: E402,F401 (autograd.profiler)
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402,F401
from .ops.copy_variants import (  # noqa: E402,F401
    adjoint,
    alias_copy,
    detach_copy,
    diagonal_copy,
    expand_copy,
    indices_copy,
    permute_copy,
    select_copy,
    slice_copy,
    split_copy,
    split_with_sizes_copy,
    squeeze_copy,
    t_copy,
    transpose_copy,
    unbind_copy,
    unfold_copy,
    unsqueeze_copy,
    values_copy,
    view_as_complex_copy,
    view_as_real_copy,
    view_copy,
    crow_indices_copy,
    col_indices_copy,
)
from .utils.dlpack import to_dlpack  # noqa: E402,F401
from .amp.autocast_mode import (  # noqa: E402,F401
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)
from . import multiprocessing  # noqa: E402,F401 (torch.multiprocessing)
from .runtime import (  # noqa: E402
    are_deterministic_algorithms_enabled,
    compile,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)

__version__ = "0.1.0"


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def numel(input: Tensor) -> int:
    return input.numel()


def result_type(tensor1: object, tensor2: object) -> dtype:
    return _dtypes.result_type(tensor1, tensor2)


def can_cast(from_: dtype, to: dtype) -> bool:
    """torch.can_cast: casting may not move to a lower category (float -> int, int -> bool)."""
    return from_.category <= to.category


from .ops.shape import trace  # noqa: E402,F401

# torch.* spellings of in-place methods, strided views, LU and the incomplete gamma
from .ops.incomplete_gamma import igamma, igammac  # noqa: E402,F401
from .ops.indexing import index_reduce  # noqa: E402,F401
from .ops.lu import lu, lu_solve, lu_unpack  # noqa: E402,F401
from .ops.strided import (  # noqa: E402,F401
    abs_,
    acos_,
    acosh_,
    addmv_,
    arccos_,
    arccosh_,
    arcsin_,
    arcsinh_,
    arctan_,
    arctanh_,
    as_strided,
    as_strided_,
    as_strided_copy,
    as_strided_scatter,
    asin_,
    asinh_,
    atan_,
    atanh_,
    ceil_,
    clamp_,
    clamp_max_,
    clamp_min_,
    clip_,
    cos_,
    cosh_,
    deg2rad_,
    detach,
    detach_,
    empty_strided,
    erf_,
    erfc_,
    exp2_,
    exp_,
    expm1_,
    fill,
    fill_,
    fix_,
    floor_,
    frac_,
    gcd_,
    i0_,
    index_put_,
    lcm_,
    ldexp_,
    log10_,
    log1p_,
    log2_,
    log_,
    logit_,
    nan_to_num_,
    neg_,
    negative_,
    rad2deg_,
    reciprocal_,
    relu_,
    resize_as_,
    round_,
    rsqrt_,
    sigmoid_,
    sin_,
    sinc_,
    sinh_,
    sqrt_,
    square_,
    tan_,
    tanh_,
    trunc_,
    typename,
    xlogy_,
    zero_,
)
from .ops.toplevel import frobenius_norm, frombuffer, nuclear_norm  # noqa: E402,F401
from .func_transforms import vmap  # noqa: E402,F401 (torch.vmap)
from .ops.composite import triangular_solve  # noqa: E402,F401
from .legacy_types import CPU_TYPES as _CPU_TYPES  # noqa: E402
from .legacy_types import set_default_tensor_type  # noqa: E402,F401
from .storage import LEGACY_STORAGES as _LEGACY_STORAGES  # noqa: E402
from .storage import TypedStorage, UntypedStorage, is_storage  # noqa: E402,F401
from .memory_layout import (  # noqa: E402,F401
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from .ops.toplevel import (  # noqa: E402,F401
    cond,
    empty_permuted,
    get_device,
    histogramdd,
    is_inference,
    is_neg,
    qr,
    unsafe_chunk,
    unsafe_split,
    unsafe_split_with_sizes,
)
from .ops.toplevel_nn import (  # noqa: E402,F401
    affine_grid_generator,
    alpha_dropout_,
    binary_cross_entropy_with_logits,
    celu_,
    constant_pad_nd,
    convolution,
    cosine_embedding_loss,
    ctc_loss,
    dropout_,
    embedding_renorm_,
    feature_alpha_dropout_,
    feature_dropout,
    feature_dropout_,
    grid_sampler,
    gru_cell,
    hinge_embedding_loss,
    kl_div,
    lstm_cell,
    margin_ranking_loss,
    max_pool1d_with_indices,
    poisson_nll_loss,
    rms_norm,
    rnn_relu_cell,
    rnn_tanh_cell,
    rrelu_,
    selu_,
    threshold,
    threshold_,
    triplet_margin_loss,
)
from .runtime import (  # noqa: E402,F401
    get_deterministic_debug_mode,
    init_num_threads,
    is_warn_always_enabled,
    set_deterministic_debug_mode,
    set_flush_denormal,
    set_warn_always,
)
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, set_anomaly_enabled  # noqa: E402,F401,I001
from .amp import GradScaler  # noqa: E402,F401 (torch.GradScaler)

globals().update(_CPU_TYPES)  # ember.FloatTensor, ember.LongTensor, ...
globals().update(_LEGACY_STORAGES)  # ember.FloatStorage, ember.LongStorage, ...
newaxis = None  # torch.newaxis, numpy's spelling of x[:, None]

from .ops._util import spell_numpy_names as _spell_numpy_names  # noqa: E402

_spell_numpy_names(globals())  # torch.cumprod(x, axis=0): numpy's names, as torch's parser

from .sparse.dispatch import route_top_level_functions as _route_sparse  # noqa: E402

_route_sparse(globals())  # ember.neg(sparse) -> the sparse method, as torch's dispatcher
