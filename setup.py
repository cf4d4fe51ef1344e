from setuptools import find_packages, setup

setup(
    name='uniformer_mm',
    version='0.1.0',
    description='UniFormer backbones for OpenMMLab 2.0 (mmdet, mmseg, mmpose, mmaction2)',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['uniformer_mm', 'uniformer_mm.*']),
    python_requires='>=3.8',
    install_requires=['torch>=2.0', 'mmengine>=0.10.0,<1.0'],
)
