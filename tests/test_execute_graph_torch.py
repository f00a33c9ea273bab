"""The graph kernels and whole graph networks against PyTorch, where torch is installed (it is
not a dependency: these tests skip without it). Layout: NHWC here, NCHW in torch."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from helpers import analyze_text
from test_execute_graph import NETWORKS

from cnncalc.execute import graph_ops
from cnncalc.execute.graph_modules import (
    CropModule,
    MergeModule,
    ShuffleModule,
    SliceModule,
    UpsampleModule,
)
from cnncalc.execute.modules import (
    ActivationModule,
    BatchNormModule,
    Context,
    ConvModule,
    DenseModule,
    FlattenModule,
    GlobalPoolModule,
    PoolModule,
)
from cnncalc.execute.network import Network, plan, random_input

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(12)


def nchw(x: np.ndarray) -> Any:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t: Any) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def test_add_concat_multiply_against_torch():
    a, b, c = (RNG.standard_normal((2, 5, 4, 3)) for _ in range(3))
    gate = RNG.standard_normal((2, 1, 1, 3))
    np.testing.assert_array_equal(graph_ops.add([a, b, c]),
                                  nhwc(torch.add(torch.add(nchw(a), nchw(b)), nchw(c))))
    np.testing.assert_array_equal(graph_ops.concat([a, b[..., :2]]),
                                  nhwc(torch.cat([nchw(a), nchw(b[..., :2])], dim=1)))
    np.testing.assert_array_equal(graph_ops.multiply([a, gate]), nhwc(nchw(a) * nchw(gate)))


@pytest.mark.parametrize(("size", "target"), [((5, 5), (3, 3)), ((6, 7), (3, 4)),
                                              ((9, 8), (4, 8)), ((4, 4), (1, 1))])
def test_crop_against_torch_slicing(size, target):
    x = RNG.standard_normal((2, *size, 3))
    top, left = (size[0] - target[0]) // 2, (size[1] - target[1]) // 2
    want = nchw(x)[:, :, top:top + target[0], left:left + target[1]]
    np.testing.assert_array_equal(graph_ops.center_crop(x, target), nhwc(want))


@pytest.mark.parametrize(("size", "target"), [((5, 5), (3, 3)), ((6, 7), (3, 4)),
                                              ((9, 8), (4, 8)), ((7, 7), (4, 4))])
def test_crop_against_torchvisions_center_crop(size, target):
    """torchvision rounds the offset ``(size - target)/2`` half to even (Python's round): it
    agrees with rounding down except when the difference is 3 mod 4, where it cuts the odd
    cell before (7 -> 4 starts at 2, here at 1). Both cases are checked."""
    tvf = pytest.importorskip("torchvision.transforms.functional")
    x = RNG.standard_normal((2, *size, 3))
    theirs = nhwc(tvf.center_crop(nchw(x), list(target)))
    ours = graph_ops.center_crop(x, target)
    agree = all((s - t) % 4 != 3 for s, t in zip(size, target, strict=True))
    assert np.array_equal(ours, theirs) == agree


@pytest.mark.parametrize(("channels", "groups"), [(4, 2), (6, 3), (12, 4), (8, 8), (5, 1)])
def test_shuffle_against_torch(channels, groups):
    x = RNG.standard_normal((2, 3, 4, channels))
    want = nhwc(torch.nn.ChannelShuffle(groups)(nchw(x)))
    np.testing.assert_array_equal(graph_ops.channel_shuffle(x, groups), want)


@pytest.mark.parametrize(("size", "factor", "mode", "dtype"), [
    case for case in itertools.product([(1, 1), (2, 3), (5, 4)], [(1, 1), (2, 2), (3, 2), (4, 1)],
                                       ["nearest", "bilinear"], ["float32", "float64"])])
def test_upsampling_against_torch(size, factor, mode, dtype):
    x = RNG.standard_normal((2, *size, 3)).astype(dtype)
    extra = {"align_corners": False} if mode == "bilinear" else {}
    want = nhwc(torch.nn.Upsample(scale_factor=factor, mode=mode, **extra)(nchw(x)))
    kernel = graph_ops.upsample_bilinear if mode == "bilinear" else graph_ops.upsample_nearest
    got = kernel(x, factor)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def torch_forward(net: Network, x: np.ndarray) -> Any:
    """The same network in torch's functional ops, with the executor's arrays, wired by the
    tensors each module reads: an independent forward pass of the whole graph."""
    tensors: dict[int, Any] = {0: nchw(x)}
    for i, m in enumerate(net.modules, start=1):
        ins = [tensors[j] for j in m.reads]
        t = ins[0]
        a = {k: torch.from_numpy(np.array(v)) for k, v in m.arrays.items()}  # ours: read-only
        if isinstance(m, ConvModule):
            assert m.groups == 1 and m.run_pad_h[0] == m.run_pad_h[1]
            w = a["weight"][0].reshape(*m.kernel, m.cg, -1).permute(3, 2, 0, 1)
            y = F.conv2d(t, w, a.get("bias"), m.stride, (m.run_pad_h[0], m.run_pad_w[0]))
        elif isinstance(m, BatchNormModule):
            y = F.batch_norm(t, a["mean"], a["var"], a["gamma"], a["beta"], False, 0.0, 1e-5)
        elif isinstance(m, ActivationModule):
            y = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda v: v}[m.fn](t)
        elif isinstance(m, PoolModule):
            y = F.max_pool2d(t, m.kernel, m.stride, (m.pad_h[0], m.pad_w[0]))
        elif isinstance(m, GlobalPoolModule):
            y = t.mean(dim=(2, 3), keepdim=m.keepdims)
        elif isinstance(m, (FlattenModule, DenseModule)):
            flat = t.permute(0, 2, 3, 1).reshape(t.shape[0], -1) if t.ndim == 4 else t
            y = flat if isinstance(m, FlattenModule) else F.linear(flat, a["weight"].T,
                                                                   a.get("bias"))
        elif isinstance(m, MergeModule):
            seen = [v.reshape(v.shape[0], -1) if v.ndim == 4 and s == (v.shape[1],)
                    else v.reshape(v.shape[0], -1, 1, 1) if v.ndim == 2 and len(s) == 3
                    else v for v, s in zip(ins, m.views, strict=True)]
            if m.op == "concat":
                y = torch.cat(seen, dim=1)
            else:
                y = seen[0]
                for v in seen[1:]:
                    y = y + v if m.op == "add" else y * v
        elif isinstance(m, CropModule):
            h, w = t.shape[2:]
            top, left = (h - m.size[0]) // 2, (w - m.size[1]) // 2
            y = t[:, :, top:top + m.size[0], left:left + m.size[1]]
        elif isinstance(m, SliceModule):
            y = t[:, m.start:m.stop] if t.ndim == 2 else t[:, m.start:m.stop, :, :]
        elif isinstance(m, ShuffleModule):
            y = torch.nn.ChannelShuffle(m.groups)(t)
        elif isinstance(m, UpsampleModule):
            extra = {"align_corners": False} if m.mode == "bilinear" else {}
            y = F.interpolate(t, scale_factor=m.factor, mode=m.mode, **extra)
        else:
            raise NotImplementedError(type(m).__name__)
        tensors[i] = y
    return tensors[net.output]


@pytest.mark.parametrize("name", NETWORKS)
def test_whole_graph_networks_against_torch(name):
    a = analyze_text(NETWORKS[name])
    p = plan(a)
    assert a.input is not None
    net = Network(p.modules, "float64", seed=0, output=p.output)
    x = random_input(a.input, 2, "float64", 0)
    net.forward(x, Context())
    want = torch_forward(net, x)
    got = net.result
    assert got is not None
    want = nhwc(want) if want.ndim == 4 else want.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
