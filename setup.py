from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def version() -> str:
    """The one version, from uniformer_mm/version.py."""
    namespace = {}
    exec((ROOT / 'uniformer_mm' / 'version.py').read_text(), namespace)
    return namespace['__version__']


def requirements(name: str) -> list:
    lines = (ROOT / 'requirements' / name).read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith('#')]


setup(
    name='uniformer_mm',
    version=version(),
    description='UniFormer backbones for OpenMMLab 2.0 (mmdet, mmseg, mmpose, mmaction2)',
    long_description=(ROOT / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['uniformer_mm', 'uniformer_mm.*']),
    # OpenMMLab's .mim convention: `mim search` reads uniformer_mm/.mim/model-index.yml, `mim train/test/run
    # uniformer_mm` find configs in .mim/configs and scripts in .mim/tools. In the source tree these are symlinks
    # to the root model-index.yml, configs/ and tools/, which a wheel stores as copies. The shell scripts and
    # tools/setup_patches/ set up a checkout and stay out. The docs ride along (.mim/docs, text only), since the
    # error messages name them.
    package_data={'uniformer_mm': [
        '.mim/model-index.yml', '.mim/configs/*/metafile.yml', '.mim/configs/**/*.py',
        '.mim/tools/*.py', '.mim/tools/analysis_tools/**/*.py', '.mim/tools/dataset_converters/*.py',
        '.mim/tools/deployment/*.py', '.mim/tools/data/kinetics/*.txt', '.mim/docs/*.md']},
    python_requires='>=3.8',
    install_requires=requirements('runtime.txt'),
    extras_require=dict(codebases=requirements('codebases.txt'), deployment=requirements('deployment.txt'),
                        analysis=requirements('analysis.txt'), tests=requirements('tests.txt')),
)
