"""tools/analysis_tools/visualize_attention.py: pictures of what a model attends to, for an image and a clip."""
import cv2
import mmcv
import numpy as np
import pytest

from helpers import ROOT, load_script

TOOL = ROOT / 'tools/analysis_tools/visualize_attention.py'
IMAGE_SMALL = ROOT / 'configs/mmpretrain/uniformer-small_8xb128_in1k.py'
IMAGE_XXS = ROOT / 'configs/mmpretrain/uniformer-xxs_8xb512_in1k.py'
VIDEO_XXS = ROOT / 'configs/mmaction/uniformer3d-xxs_in1k-pre_8xb32-u8-110e_kinetics400-rgb-160px.py'


@pytest.fixture(scope='module')
def tool():
    return load_script(TOOL)


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    """A picture with structure: a bright disc on a gradient."""
    y, x = np.mgrid[:96, :128]
    picture = np.stack([x * 2, y * 2, 255 * ((x - 80)**2 + (y - 40)**2 < 400)], axis=-1).astype(np.uint8)
    path = tmp_path_factory.mktemp('inputs') / 'disc.png'
    mmcv.imwrite(picture, str(path))
    return path


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """Eight 64x64 frames of a square moving right, as an mp4."""
    path = tmp_path_factory.mktemp('inputs') / 'moving.mp4'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 8, (64, 64))
    for t in range(8):
        frame = np.full((64, 64, 3), 40, np.uint8)
        frame[20:40, 4 + 5 * t:24 + 5 * t] = 220
        writer.write(frame)
    writer.release()
    return path


def assert_picture(path):
    """The file is a PNG with more than a blank canvas in it."""
    assert path.suffix == '.png' and path.stat().st_size < 200_000
    picture = mmcv.imread(str(path))
    assert picture.std() > 20 and len(np.unique(picture.reshape(-1, 3), axis=0)) > 200


@pytest.mark.slow
def test_attention_of_a_query_on_an_image(tool, image, tmp_path):
    written = tool.main([str(IMAGE_SMALL), str(image), '--out-dir', str(tmp_path), '--stage', '3', '--block', '-1',
                         '--query', '80,40', '--head', '2', '--shape', '96', '128'])
    assert [path.name for path in written] == ['disc_stage3_block-1.png']
    assert_picture(written[0])


@pytest.mark.slow
def test_light_model_class_token_and_kept_tokens_on_a_clip_with_grad_cam(tool, clip, tmp_path):
    pytest.importorskip('pytorch_grad_cam')
    written = tool.main([str(VIDEO_XXS), str(clip), '--out-dir', str(tmp_path), '--stage', '3', '--block', '2',
                         '--shape', '64', '64', '--num-frames', '8', '--grad-cam'])
    assert [path.name for path in written] == ['moving_stage3_block2.png', 'moving_grad_cam.png']
    for path in written:
        assert_picture(path)


@pytest.mark.slow
def test_received_attention_and_grad_cam_on_an_image(tool, image, tmp_path):
    pytest.importorskip('pytorch_grad_cam')
    written = tool.main([str(IMAGE_XXS), str(image), '--out-dir', str(tmp_path), '--received', '--grad-cam',
                         '--shape', '64', '64'])
    assert [path.name for path in written] == ['disc_stage4_block-1.png', 'disc_grad_cam.png']
    for path in written:
        assert_picture(path)


@pytest.mark.slow
def test_bad_arguments_say_what_is_expected(tool, image, tmp_path):
    for arguments, message in [
        (['--stage', '2'], 'stage 2 has no self-attention'),
        (['--stage', '4', '--block', '7'], r'stage 4 has 2 blocks; block must be in \[-2, 1\]'),
        (['--query', '500,10'], 'lies outside the 64x64 input'),
        (['--head', '16'], r"head must be 'mean' or an index in \[0, 15\]"),
    ]:
        with pytest.raises(SystemExit, match=message):
            tool.main([str(IMAGE_XXS), str(image), '--out-dir', str(tmp_path), '--shape', '64', '64', *arguments])


def test_unparseable_arguments_are_refused(tool, capsys):
    for arguments in (['--query', 'left'], ['--head', 'max'], ['--num-frames', '0']):
        with pytest.raises(SystemExit):
            tool.parse_args(['config.py', 'input.jpg', '--out-dir', 'out', *arguments])
        assert 'must be' in capsys.readouterr().err


def test_an_image_model_refuses_a_video_and_a_video_model_an_image(tool, image, clip, tmp_path):
    with pytest.raises(SystemExit, match='an image model needs one'):
        tool.read_frames(str(clip), 8, video=False)
    with pytest.raises(SystemExit, match='a video model needs a video file'):
        tool.read_frames(str(image), 8, video=True)
