"""Settings for every pytest run of the course (unit tests, nbval over chapters/, browser tests).

nbval starts the kernels that execute the chapters from this process, and they inherit its
environment: an ``MPLBACKEND`` set in the caller's shell would silently turn every ``plt.show()`` into
nothing. It is removed here, so kernels use Jupyter's inline backend, as a learner's do.
"""
import os

os.environ.pop("MPLBACKEND", None)
