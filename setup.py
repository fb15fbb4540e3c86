"""pip install --no-build-isolation .   (Debian 12 as root: add --break-system-packages, or use a venv
with --system-site-packages). Builds the extension with the project's CMake (BUILD dir: build, or
$LONGCTX_BUILD) and installs python/longctx with it. No network: pybind11 comes from Debian."""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        root = os.path.dirname(os.path.abspath(__file__))
        build = os.path.abspath(os.environ.get("LONGCTX_BUILD", os.path.join(root, "build")))
        subprocess.check_call(["cmake", "-S", root, "-B", build, "-DCMAKE_BUILD_TYPE=Release", f"-DPython_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", build, "--target", "_longctx", "-j", str(os.cpu_count() or 2)])
        built = glob.glob(os.path.join(build, "python", "longctx", "_longctx*.so"))
        if not built:
            sys.exit(f"setup.py: the build left no _longctx*.so in {build}/python/longctx")
        dst = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(built[0], dst)


setup(name="longctx", version="0.1.0", description="longctx: tokenizers, document stores and packed data for long-context training",
      packages=["longctx"], package_dir={"": "python"}, ext_modules=[Extension("longctx._longctx", sources=[])],
      cmdclass={"build_ext": CMakeBuild}, python_requires=">=3.9",
      options={"build": {"build_base": "build/setuptools"}})  # not setuptools default "build": that is CMake's
