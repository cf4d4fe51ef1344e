"""demo/toy_demo.py cls --pretrained stand-in: the stand-in is a checkpoint in the release's ImageNet layout."""
import torch

from uniformer_mm import UniFormer2D

from helpers import ROOT, fabricate_official_state_dict, load_script


def load_demo():
    return load_script(ROOT / 'demo' / 'toy_demo.py')


def test_stand_in_has_the_official_layout_and_loads_like_the_release(tmp_path):
    path = tmp_path / 'stand_in.pth'
    load_demo().write_stand_in_imagenet_checkpoint(path)
    stand_in = torch.load(path, weights_only=True)['model']
    official = fabricate_official_state_dict('image_small_in1k')
    assert {k: tuple(v.shape) for k, v in stand_in.items()} == {k: tuple(v.shape) for k, v in official.items()}
    backbone = UniFormer2D(out_indices=(3, ), out_norm='batch', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    backbone.init_weights()
    key = 'blocks3.0.attn.qkv.weight'
    torch.testing.assert_close(backbone.state_dict()[key], stand_in[key])
