"""Where the reference release's checkpoints are hosted, by name, and how ``init_cfg`` finds them.

``RELEASED_CHECKPOINTS`` lists every released checkpoint that a shipped config can use: the ImageNet-1K backbones
(``init_cfg`` of every config), the Kinetics / Something-Something models, and the COCO, ADE20K and COCO-keypoint
models, with what loading them needs. Names are the release's file names without ``.pth``. ``url`` is a direct
download (the release's Hugging Face repositories, or the OpenMMLab mirrors of mmaction2 and mmpose), ``mirrors``
other direct downloads (OpenMMLab's copies, the author's personal Hugging Face repository, and a re-host by a third
party), and ``page`` the release's Google Drive page, the only host of many files; Drive pages cannot be downloaded
by a program, so those files are fetched by hand. No SHA-256 is recorded here: a download is checked against a hash
only where its file name carries one (OpenMMLab's ``name-<hex>.pth``, :mod:`uniformer_mm.checkpoint_routes`); every
file, hashed or not, is read by the checkpoint reader, never unpickled. What a checkpoint was trained on, its
published metrics and the configs it belongs to are in the metafiles (``configs/*/metafile.yml``), whose ``Weights``
and ``Converted From: Weights`` name these addresses; docs/checkpoints.md joins the two.

``init_cfg=dict(type='Pretrained', checkpoint=...)`` of the UniFormer backbones takes a local path, a URL, or a
name of this table (its ``url``, else its first mirror, downloaded once into ``$TORCH_HOME/hub/uniformer_mm``, see
:mod:`uniformer_mm.checkpoint_routes`).
"""
import difflib
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

_HF = 'https://huggingface.co/Sense-X'
_MMACTION = 'https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv1'
_MMPOSE = 'https://download.openmmlab.com/mmpose/v1/projects/uniformer'
_DRIVE = 'https://drive.google.com/file/d/{}/view'
# The first author's own Hugging Face repository of the light models (not linked from the release's READMEs).
_LIGHT = 'https://huggingface.co/Andy1621/uniformer_light/resolve/main'
# ControlNet's annotator weights, which re-host the ADE20K UperNet-S (its segmentation annotator).
_ANNOTATORS = 'https://huggingface.co/lllyasviel/Annotators/resolve/main'
TRAIN_FROM_SCRATCH = '--cfg-options model.backbone.init_cfg=None'


# How a released checkpoint is used, named in the table of docs/checkpoints.md. The converter is
# tools/convert_checkpoint.py in a clone, `mim run uniformer_mm convert_checkpoint` where the wheel is installed.
LOAD_ROUTES = {
    'init_cfg': "the backbone's init_cfg=dict(type='Pretrained', checkpoint=NAME or PATH)",
    'slowfast-video': 'convert_checkpoint.py slowfast-video (Kinetics-400: with the two label files), '
                      'then --checkpoint',
    'openmmlab1': 'convert_checkpoint.py openmmlab1 --config CONFIG, then --checkpoint',
    'imagenet': 'convert_checkpoint.py imagenet --config CONFIG, then --checkpoint (the classifier); '
                "or the backbone's init_cfg",
    'checkpoint': 'mim test ... --checkpoint FILE as is (an OpenMMLab 2.0 checkpoint)',
}


@dataclass(frozen=True)
class ReleasedCheckpoint:
    """One released checkpoint.

    Args:
        name (str): The release's file name without ``.pth``.
        arch (str): The ``arch`` of ``UniFormer2D`` / ``UniFormer3D`` it loads into.
        head_dim (int): Attention head width (not stored in the checkpoint; picks between archs of one layout).
        load (str): How it is used: a key of ``LOAD_ROUTES``.
        url (str, optional): Direct download.
        mirrors (tuple[str]): Other direct downloads.
        page (str, optional): The Google Drive page of the reference release.
    """
    name: str
    arch: str
    head_dim: int
    load: str
    url: Optional[str] = None
    mirrors: Tuple[str, ...] = ()
    page: Optional[str] = None

    @property
    def addresses(self) -> Tuple[str, ...]:
        """Every address of the file (direct download, mirrors, release page), as metafiles name it."""
        return tuple(address for address in (self.url, *self.mirrors, self.page) if address)

    @property
    def direct_download(self) -> Optional[str]:
        """What a name in ``init_cfg`` downloads: ``url``, else the first mirror, else None (Drive only)."""
        return self.url or next(iter(self.mirrors), None)

    def where(self) -> str:
        """Where to get the file, for messages."""
        hosts = [url for url in (self.url, *self.mirrors) if url]
        if hosts:
            return 'download it from ' + ' or '.join(hosts)
        return f"download it by hand from the release's Google Drive page {self.page}"


def _entries() -> Tuple[ReleasedCheckpoint, ...]:
    def imagenet(name, arch, head_dim, drive, url=None, mirrors=()):
        return ReleasedCheckpoint(name, arch, head_dim, 'init_cfg', url, mirrors, _DRIVE.format(drive))

    def token_labeling(name, arch, head_dim, drive):
        return ReleasedCheckpoint(name, arch, head_dim, 'imagenet', page=_DRIVE.format(drive))

    def video_model(name, arch, drive, url=None):
        return ReleasedCheckpoint(name, arch, 64, 'slowfast-video', url, page=_DRIVE.format(drive))

    def mmaction_port(name, arch, url):
        return ReleasedCheckpoint(name, arch, 64, 'checkpoint', f'{_MMACTION}/{url}')

    def openmmlab1(name, arch, drive, url=None, mirrors=()):
        return ReleasedCheckpoint(name, arch, 64, 'openmmlab1', url, mirrors, _DRIVE.format(drive))

    return (
        imagenet('uniformer_small_in1k', 'small', 64, '1-uepH3Q3BhTmWU6HK-sGAGQC_MpfIiPD',
                 f'{_HF}/uniformer_image/resolve/main/uniformer_small_in1k.pth',
                 (f'{_MMACTION}/uniformer_small_in1k_20221219-fe0a7ae0.pth', f'{_MMPOSE}/uniformer_small_in1k.pth')),
        imagenet('uniformer_small_plus_in1k', 'small_plus', 32, '10IN5ULcjz0Ld_lDokkTGOSmRFXLzUkEs',
                 f'{_HF}/uniformer_image/resolve/main/uniformer_small_plus_in1k.pth'),
        imagenet('uniformer_small_plus_dim64_in1k', 'small_plus_dim64', 64, '178ipRvMBKeAP_Fzy6fEr2HQkIQWdgEY6'),
        imagenet('uniformer_base_in1k', 'base', 64, '1-wT39QazTGELxgrQIu6J12D3qcla3hui',
                 f'{_HF}/uniformer_image/resolve/main/uniformer_base_in1k.pth',
                 (f'{_MMACTION}/uniformer_base_in1k_20221219-82c01015.pth', f'{_MMPOSE}/uniformer_base_in1k.pth')),
        imagenet('uniformer_base_ls_in1k', 'base_ls', 64, '10FnwzMVgGL8bPO3EMZ7oG4vDvqnPoBK5'),
        # The light models (Google Drive, one also on the author's Hugging Face), under the names the release's own
        # downstream scripts use.
        imagenet('uniformer_xxs_128_in1k', 'xxs', 28, '1Cr7uB5hUck1BHioEROWZjfLpYRwg4Zps'),
        imagenet('uniformer_xxs_160_in1k', 'xxs', 28, '1CsXCzfVFPyM2mY8BA_1fO3q_VBngnF44',
                 mirrors=(f'{_LIGHT}/uniformer_xxs_160_in1k.pth', )),
        imagenet('uniformer_xxs_192_in1k', 'xxs', 28, '1CjrCEnZCk2aLrN7nVG8vFvu3FAUL4_Y_'),
        imagenet('uniformer_xxs_224_in1k', 'xxs', 28, '1Cw9r_3c30N-esFI8RFYa6rQXJrr1rAHY'),
        imagenet('uniformer_xs_192_in1k', 'xs', 32, '1Ce2Dk9-k_-sHt5dXp-gfNOEK37Jdcffv'),
        imagenet('uniformer_xs_224_in1k', 'xs', 32, '1CwQ91fjuAu3Rhn3zV4vjAmQ8v36AfYPT'),
        # The token-labeling release: Google Drive only; names as the release's users know them (its READMEs
        # give Drive links, not file names).
        token_labeling('uniformer_small_tl_224', 'small_dim32', 32, '16wjfeyqQFZ2x9W91EXf0Py1bfv4Fydfr'),
        token_labeling('uniformer_small_dim64_tl_224', 'small', 64, '17NC5qqAWCT2gI_jY_cJnFTOqRQTSwsoz'),
        token_labeling('uniformer_small_plus_tl_224', 'small_plus', 32, '16rgtEVEeX3jVTQaiLsojBQP5sRaj_2aZ'),
        token_labeling('uniformer_small_plus_dim64_tl_224', 'small_plus_dim64', 64,
                       '17OfoDWt2_nA0BYN0OuLPpG8mHJDTluQQ'),
        token_labeling('uniformer_base_tl_224', 'base_dim32', 32, '16nsTjawiYZuoCHBRarr58zA7vCFcmQmL'),
        token_labeling('uniformer_base_dim64_tl_224', 'base', 64, '17MneG9CnZG6zBvXYUr4WUXoTYc4rjJj5'),
        token_labeling('uniformer_large_ls_tl_224', 'large_ls', 64, '173e2qaJhOwbuC_DbNQSH47Oo_04mSfDj'),
        token_labeling('uniformer_small_tl_384', 'small_dim32', 32, '16p4CXzuXC5J4_SJK67dsvnc8gTKmtKN1'),
        token_labeling('uniformer_small_plus_tl_384', 'small_plus', 32, '16wJT87vTc43Dt1q2sXrxZRUuEdrNdFdk'),
        token_labeling('uniformer_base_tl_384', 'base_dim32', 32, '16kZlIarIwf9ldkCdHVKTQfFmDgfkucQ7'),
        token_labeling('uniformer_large_ls_tl_384', 'large_ls', 64, '174rcA6rNzYVG9Ya9ik-NwTGoxW1M79ez'),
        # The Kinetics and Something-Something release, as PySlowFast checkpoints ({'model_state': ...}).
        video_model('uniformer_small_k400_8x8', 'small', '1-kitVTkWErHXI_x-sLItvK9-sOmb53j6'),
        video_model('uniformer_small_k400_16x4', 'small', '1-jGZIIuTM5IYIpqkNTojhGhfMc7Gu9Kt'),
        video_model('uniformer_base_k400_8x8', 'base', '1hBxGU-QE8hGRBjSNCymJ7Au06LhluvTv'),
        video_model('uniformer_base_k400_16x4', 'base', '15ipzFaZdTt-aHv7jcr_h_vgYD2X7D6AD'),
        video_model('uniformer_base_k400_32x4', 'base', '1gHxx8cr1H0CNvngj1kB9ArgcPfJtqjCV',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_base_k400_32x4.pth'),
        video_model('uniformer_small_k400_16x8', 'small', '174muWZJcZHieABDZMKiJ0tNeFLoEkJLx',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_small_k400_16x8.pth'),
        video_model('uniformer_small_k600_16x8', 'small', '1-c835NJjg_015WxLBQF-1cPdQsyWMWfY',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_small_k600_16x8.pth'),
        video_model('uniformer_base_k600_32x4', 'base', '1-DwdVf8w8lYj-iFpU40pfEpog9VE5PQB',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_base_k600_32x4.pth'),
        video_model('uniformer_small_sthv1_16_prek600', 'small', '1-YbYGjM15MDtQnrmCeZ9H2ybNdYTFkgO',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_small_sthv1_16_prek600.pth'),
        video_model('uniformer_base_sthv1_32_prek600', 'base', '1xE1aJYAYFOlXOkpiIbJFHu_jSrr8reKm',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_base_sthv1_32_prek600.pth'),
        video_model('uniformer_small_sthv2_16_prek600', 'small', '1-V1mQp4fIIYhaXUWCgZXkJ0H6ne0Z8rz',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_small_sthv2_16_prek600.pth'),
        video_model('uniformer_base_sthv2_32_prek600', 'base', '1-lkRB3546l_ECuObN_IrHws1C9a-qKPr',
                    f'{_HF}/uniformer_video/resolve/main/uniformer_base_sthv2_32_prek600.pth'),
        video_model('uniformer_small_k600_16x4', 'small', '1-dqzjm5RZVspWHQLRD4S1vo4_6jyVltb'),
        video_model('uniformer_base_k600_16x4', 'base', '1nBQCBCsCflhZ4OGUoGB3pAkc_GDau7vd'),
        video_model('uniformer_small_sthv2_16_prek400', 'small', '1-Wq22024HB7tT8kPX6eSMn2GUNMI-_gY'),
        video_model('uniformer_base_sthv2_32_prek400', 'base', '1-rpMARXnyvyj6YUJkIvVqtna86egpjoS'),
        # The light XXS Kinetics-400 model of 16 frames at 160 px, as the author's Hugging Face repository holds it
        # (no Drive page of it is listed here).
        ReleasedCheckpoint('uniformer_xxs16_160_k400', 'xxs', 28, 'slowfast-video',
                           mirrors=(f'{_LIGHT}/uniformer_xxs16_160_k400.pth', )),
        # mmaction2's ports of three Kinetics-400 models: whole recognizers, classifier in label_map_k400.txt order.
        mmaction_port('uniformer-small_imagenet1k-pre_16x4x1_kinetics400-rgb', 'small',
                      'uniformer-small_imagenet1k-pre_16x4x1_kinetics400-rgb_20221219-c630a037.pth'),
        mmaction_port('uniformer-base_imagenet1k-pre_16x4x1_kinetics400-rgb', 'base',
                      'uniformer-base_imagenet1k-pre_16x4x1_kinetics400-rgb_20221219-157c2e66.pth'),
        mmaction_port('uniformer-base_imagenet1k-pre_32x4x1_kinetics400-rgb', 'base',
                      'uniformer-base_imagenet1k-pre_32x4x1_kinetics400-rgb_20221219-b776322c.pth'),
        # The COCO, ADE20K and COCO-keypoint release, as OpenMMLab 1.x checkpoints of the whole model.
        openmmlab1('mask_rcnn_1x_hybrid_small', 'small', '13KhBYkHKQg-CyhAgn1LQM1K0R4bwSpWT'),
        openmmlab1('mask_rcnn_3x_ms_hybrid_small', 'small', '13O6P-spXbWuXgUjLw8AyRITYTwhdOwuD'),
        openmmlab1('mask_rcnn_1x_hybrid_base', 'base', '13YrVEiqFraSuX1NzdhPnhw7bFXTvEii1'),
        openmmlab1('mask_rcnn_3x_ms_hybrid_base', 'base', '12xyS2xqFSYMkHUiVYVGVW7gaLIxuK2q6'),
        openmmlab1('cascade_mask_rcnn_3x_ms_hybrid_small', 'small', '13IhpRkh2hE8WfDyw-5-NXSUVZjn9DX20'),
        openmmlab1('cascade_mask_rcnn_3x_ms_hybrid_base', 'base', '13G9wc73CmS1Kb-kVelFSDlK-ezUBadzQ'),
        openmmlab1('upernet_global_small', 'small', '13hOneJiFqwEneUz1Zpqo1W2uv7BsoXGF',
                   mirrors=(f'{_ANNOTATORS}/upernet_global_small.pth', )),
        openmmlab1('fpn_hybrid_base', 'base', '14XokJDp1oYDV9jZnniMXyk3AnVfk1S1-'),
        openmmlab1('top_down_256x192_global_small', 'small', '162R0JuTpf3gpLe1IK6oxRoQK7JSj4ylx',
                   f'{_MMPOSE}/top_down_256x192_global_small-d4a7fdac_20230724.pth'),
        openmmlab1('top_down_384x288_global_small', 'small', '163vuFkpcgVOthC05jCwjGzo78Nr0eikW',
                   f'{_MMPOSE}/top_down_384x288_global_small-7a613f78_20230724.pth'),
        openmmlab1('top_down_448x320_global_small', 'small', '165nQRsT58SXJegcttksHwDn46Fme5dGX',
                   f'{_MMPOSE}/top_down_448x320_global_small-18b760de_20230724.pth'),
        openmmlab1('top_down_256x192_global_base', 'base', '15tzJaRyEzyWp2mQhpjDbBzuGoyCaJJ-2',
                   f'{_MMPOSE}/top_down_256x192_global_base-1713bcd4_20230724.pth'),
        openmmlab1('top_down_384x288_global_base', 'base', '15qtUaOR_C7-vooheJE75mhA9oJQt3gSx',
                   f'{_MMPOSE}/top_down_384x288_global_base-c650da38_20230724.pth'),
        openmmlab1('top_down_448x320_global_base', 'base', '156iNxetiCk8JJz41aFDmFh9cQbCaMk3D',
                   f'{_MMPOSE}/top_down_448x320_global_base-a05c185f_20230724.pth'),
    )


RELEASED_CHECKPOINTS: Dict[str, ReleasedCheckpoint] = {entry.name: entry for entry in _entries()}


def known_checkpoint(path: str) -> Optional[ReleasedCheckpoint]:
    """The released checkpoint a file name or URL refers to (``.../uniformer_small_in1k.pth``), if any."""
    stem = _stem(path)
    for entry in RELEASED_CHECKPOINTS.values():
        if stem == entry.name or any(stem == _stem(url) for url in (entry.url, *entry.mirrors) if url):
            return entry
    return None


def released_files_of(model: dict) -> List[ReleasedCheckpoint]:
    """The released checkpoints a metafile model names in ``Weights`` (a direct download, loaded as is) and in
    ``Converted From: Weights`` (the release's file it was converted from), in that order; none for a config that
    has no released file."""
    named = [model.get('Weights'), model.get('Converted From', {}).get('Weights')]
    files = [entry for address in named if address
             for entry in RELEASED_CHECKPOINTS.values() if address in entry.addresses]
    return list(dict.fromkeys(files))  # a file named twice (its direct download and its Drive page) once


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def did_you_mean(path: str) -> str:
    """``'did you mean NAME? '`` for the released names closest to a mistyped file name or name, else ``''``."""
    close = difflib.get_close_matches(_stem(path), RELEASED_CHECKPOINTS, n=3, cutoff=0.8)
    return f"did you mean {' or '.join(repr(name) for name in close)}? " if close else ''


def offline_advice(url: str) -> str:
    """What to do when ``url`` cannot be downloaded here (offline, blocked): the file's other hosts if it is a
    released one, and the local path that replaces the download."""
    entry = known_checkpoint(url)
    others = [host for host in (entry.url, *entry.mirrors, entry.page) if host and host != url] if entry else []
    also = f"(the release's {entry.name}; also at {' or '.join(others)}) " if others else ''
    return (f'if this machine cannot reach it, download {url} {also}on one that can and give the file\'s local '
            "path instead (init_cfg's checkpoint, load_from, or --checkpoint)")


def resolve_checkpoint(checkpoint: str) -> str:
    """The path or URL that ``init_cfg``'s ``checkpoint`` names: a released name becomes its direct download.

    Raises:
        FileNotFoundError: A released name without a direct download (Google Drive only), or a local path that
            does not exist; the message says where to get the file and how to train from scratch instead.
    """
    if checkpoint in RELEASED_CHECKPOINTS:
        entry = RELEASED_CHECKPOINTS[checkpoint]
        if entry.direct_download:
            return entry.direct_download
        raise FileNotFoundError(
            f"'{checkpoint}' has no direct download: {entry.where()}, then set init_cfg's checkpoint to its path; "
            f'or train from scratch with {TRAIN_FROM_SCRATCH}')
    if '://' in checkpoint or os.path.isfile(os.path.expanduser(checkpoint)):
        return checkpoint
    entry = known_checkpoint(checkpoint)
    if entry:
        hint = (f"it is the release's {entry.name} (arch {entry.arch!r}): {entry.where()}"
                + (f", or set init_cfg's checkpoint to '{entry.name}' to download it on first use"
                   if entry.direct_download else ''))
    else:
        hint = (did_you_mean(checkpoint) + 'the released checkpoints and their names are listed in docs/checkpoints.md '
                '(installed with the package: python -m uniformer_mm.shipped docs/checkpoints.md)')
    raise FileNotFoundError(
        f'init_cfg checkpoint {checkpoint!r} not found (paths are relative to the working directory, '
        f'{os.getcwd()}); {hint}. To train from scratch instead: {TRAIN_FROM_SCRATCH}')


def check_pretrained_sources(model_cfg: Any) -> None:
    """Raises before anything is built or loaded if an ``init_cfg=dict(type='Pretrained')`` in ``model_cfg``
    names a local file that is not there (see :func:`resolve_checkpoint`)."""
    if isinstance(model_cfg, dict):
        init_cfg = model_cfg.get('init_cfg')
        for cfg in init_cfg if isinstance(init_cfg, list) else [init_cfg]:
            if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained' and cfg.get('checkpoint'):
                resolve_checkpoint(cfg['checkpoint'])
        children = model_cfg.values()
    elif isinstance(model_cfg, (list, tuple)):
        children = model_cfg
    else:
        return
    for child in children:
        check_pretrained_sources(child)
