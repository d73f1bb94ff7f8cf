"""data/mnist.npz holds the MNIST arrays listed in data/README.md, byte for byte."""

import hashlib

import numpy as np

from kit.layout import ROOT

EXPECTED = {
    "x_train": ((60000, 28, 28), "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "y_train": ((60000,), "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "x_test": ((10000, 28, 28), "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "y_test": ((10000,), "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}


def test_arrays_match_their_published_checksums():
    with np.load(ROOT / "data" / "mnist.npz") as mnist:
        assert sorted(mnist.files) == sorted(EXPECTED)
        for name, (shape, sha256) in EXPECTED.items():
            array = mnist[name]
            assert array.shape == shape and array.dtype == np.uint8, name
            assert hashlib.sha256(array.tobytes()).hexdigest() == sha256, name


def test_release_carries_the_same_file():
    release_copy = ROOT / "assignment" / "sequential_mnist" / "data" / "mnist.npz"
    assert release_copy.read_bytes() == (ROOT / "data" / "mnist.npz").read_bytes()
