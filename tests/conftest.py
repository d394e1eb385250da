"""Shared test settings: one torch thread, and the network blocked (only loopback connections work)."""
import ipaddress
import socket

import pytest
import torch

_real_connect, _real_connect_ex = socket.socket.connect, socket.socket.connect_ex


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # a Unix socket path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:  # a host name other than localhost
        return False


def _refuse(address):
    raise OSError(f"tests run with the network blocked: a test tried to connect to {address!r} "
                  "(use a local file, a file:// URL or 127.0.0.1)")


def _connect(self, address):
    if not _is_local(address):
        _refuse(address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    if not _is_local(address):
        _refuse(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _network_blocked():
    """Every test runs offline: a connection to anything but this machine raises OSError."""
    socket.socket.connect, socket.socket.connect_ex = _connect, _connect_ex
    yield
    socket.socket.connect, socket.socket.connect_ex = _real_connect, _real_connect_ex


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The test models are tiny: one thread is fastest and does not fight other processes for the cores."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
