"""Client: the client of an ndshm server (`ndshm serve`, docs/PROTOCOL.md) over a unix
socket.  It lists and creates blocks, and hands out anonymous (memfd) blocks as ndarrays."""

from __future__ import annotations

import json
import os
import socket as _socket
import struct
import threading
from typing import TYPE_CHECKING, Any, List, Sequence, SupportsIndex, Union

from numpy.lib import format as npyfmt

from .blocks import _attach_fd, _check_dtype, _check_shape

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import DTypeLike

# A block as `ndshm inspect --json` describes it (docs/JSON.md, "A block object").
BlockDict = dict[str, Any]
# A shape: a length, or one per dimension.
Shape = Union[SupportsIndex, Sequence[SupportsIndex]]


# The server protocol, docs/PROTOCOL.md: one JSON object per SOCK_SEQPACKET packet.
PROTOCOL_VERSION = 1
MAX_MESSAGE = 64 << 10
_MAX_FDS = 4            # room for more descriptors than a reply carries, to close strays


class ServerError(Exception):
    """A request the ndshm server refused.  str(e) is the server's message; e.code is
    its error code ('exist', 'not_exist', 'permission', 'format', 'dtype', 'no_space',
    'bad_request', or '') and e.op the request's op."""

    def __init__(self, message: str, code: str = '', op: str = '') -> None:
        super().__init__(message)
        self.code, self.op = code, op


def default_socket() -> str:
    """Where `ndshm serve` listens unless told otherwise: $XDG_RUNTIME_DIR/ndshm.sock, or
    /tmp/ndshm-UID/ndshm.sock, in a directory only that user may write to (as Go's DefaultSocket)."""
    d = os.environ.get('XDG_RUNTIME_DIR')
    return os.path.join(d, 'ndshm.sock') if d else '/tmp/ndshm-%d/ndshm.sock' % os.getuid()


def _descr(dtype: DTypeLike) -> str:
    """The dtype as the protocol sends it: '<f8', or the literal of a record's field list."""
    d = npyfmt.dtype_to_descr(_check_dtype(dtype))
    return d if isinstance(d, str) else repr(d)


class Client:
    """A connection to an ndshm server (`ndshm serve`).

        with Client() as c:
            c.create('frame', (480, 640), 'f4')   # the server owns it; attach('frame') maps it
            a = c.anon((1000,), 'f8', key='job')   # an anonymous block, mapped here
            b = c.get('job')                       # another view of it (usually elsewhere)

    Requests are answered in order; a lock lets threads share a client.  Anonymous
    blocks published with a key stay available to get() only while this client is
    connected; arrays already received stay valid for as long as they live.
    """

    def __init__(self, socket: str | None = None) -> None:
        path = socket or default_socket()
        self._lock = threading.Lock()
        self._sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        try:
            try:
                self._sock.connect(path)
            except (FileNotFoundError, ConnectionRefusedError) as e:
                raise type(e)(e.errno, 'no ndshm server at %s (%s): start one with `ndshm serve%s`, '
                              'or pass the socket of a running one as Client(socket=PATH)'
                              % (path, e.strerror, '' if path == default_socket() else ' --socket ' + path)) from None
            # Anyone may create a socket in /tmp: talk only to our own user's server.
            cred = self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED,
                                         struct.calcsize('3i'))
            pid, uid, _gid = struct.unpack('3i', cred)
            if uid != os.getuid():
                raise PermissionError('ndshm server %s (pid %d) runs as uid %d, not %d'
                                      % (path, pid, uid, os.getuid()))
        except BaseException:
            self._sock.close()
            raise

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the connection; the server forgets the keys this client published."""
        self._sock.close()

    def list(self) -> List[BlockDict]:   # List: in the class, list is this method
        """Every ndshm block in /dev/shm, as a list of block dicts: the keys and meanings
        of info() and `ndshm inspect --json`, but 'users' may be up to a second old (the
        server shares one search of /proc among its requests), and a block too large to
        describe in a reply carries 'truncated': True (docs/PROTOCOL.md)."""
        return self._call({'op': 'list'})[0].get('blocks') or []

    def stat(self, name: str) -> BlockDict:
        """The named block's dict, as list() gives them."""
        return self._call({'op': 'stat', 'name': name})[0]['block']

    def create(self, name: str, shape: Shape, dtype: DTypeLike, order: str = 'C') -> BlockDict:
        """Have the server create and own the named block; return its dict.

        It lives until drop() or until the server stops; attach(name) maps it."""
        return self._call(self._spec({'op': 'create', 'name': name}, shape, dtype, order))[0]['block']

    def drop(self, name: str) -> None:
        """Have the server close and unlink a block it owns."""
        self._call({'op': 'drop', 'name': name})

    def anon(self, shape: Shape, dtype: DTypeLike, order: str = 'C', key: str | None = None) -> np.ndarray:
        """A new anonymous (memfd) block from the server, as a writable ndarray.

        With a key, other clients can get() it while this client stays connected.
        It is freed when the last array and descriptor for it are gone."""
        req = self._spec({'op': 'anon'}, shape, dtype, order)
        if key is not None:
            req['key'] = key
        return self._map(req)

    def get(self, key: str) -> np.ndarray:
        """The anonymous block another client published under key, as an ndarray."""
        return self._map({'op': 'get', 'key': key})

    @staticmethod
    def _spec(req: dict[str, Any], shape: Shape, dtype: DTypeLike, order: str) -> dict[str, Any]:
        if order not in ('C', 'F'):
            raise ValueError("order must be 'C' or 'F', not %r" % (order,))
        req.update(dtype=_descr(dtype), shape=list(_check_shape(shape)), order=order)
        return req

    def _map(self, req: dict[str, Any]) -> np.ndarray:
        """Make a request whose reply carries a block's descriptor; map the block."""
        fd = self._call(req, want_fd=True)[1][0]
        try:
            return _attach_fd(fd, '%s block from the server' % req['op'])
        finally:
            os.close(fd)

    def _call(self, req: dict[str, Any], want_fd: bool = False) -> tuple[dict[str, Any], List[int]]:
        """Send req; return the reply and the descriptors it carried (one if want_fd)."""
        req = dict(req, v=PROTOCOL_VERSION)
        msg = json.dumps(req).encode()
        if len(msg) > MAX_MESSAGE:
            raise ValueError('request of %d bytes is over the %d-byte limit' % (len(msg), MAX_MESSAGE))
        with self._lock:
            try:
                self._sock.send(msg)
                rep, fds = self._receive()
            except BaseException:       # a reply may be left unread: out of step for good
                self._sock.close()
                raise
        if not rep.get('ok') or len(fds) != (1 if want_fd else 0):
            for fd in fds:
                os.close(fd)
            if not rep.get('ok'):
                raise ServerError(rep.get('error') or 'unknown error', rep.get('code') or '', req['op'])
            raise ConnectionError('ndshm server: %s reply with %d descriptors' % (req['op'], len(fds)))
        return rep, fds

    def _receive(self) -> tuple[dict[str, Any], List[int]]:
        """Read one reply, joining a list continued over several packets ("more").
        Descriptors count only on the last packet; strays are closed."""
        blocks: List[dict[str, Any]] = []
        while True:
            # Close-on-exec from the start: a thread forking meanwhile must not inherit them.
            data, fds, flags, _ = _socket.recv_fds(self._sock, MAX_MESSAGE, _MAX_FDS,
                                                   getattr(_socket, 'MSG_CMSG_CLOEXEC', 0))
            try:
                rep = self._decode(data, flags)
            except BaseException:
                for fd in fds:
                    os.close(fd)
                raise
            blocks += rep.get('blocks') or []
            if not (rep.get('ok') and rep.get('more')):
                if blocks:
                    rep['blocks'] = blocks
                return rep, fds
            for fd in fds:
                os.close(fd)

    @staticmethod
    def _decode(data: bytes, flags: int) -> dict[str, Any]:
        if not data:
            raise ConnectionError('ndshm server closed the connection')
        if flags & (_socket.MSG_TRUNC | _socket.MSG_CTRUNC):
            raise ConnectionError('ndshm server sent an oversized reply')
        rep = json.loads(data)
        if not isinstance(rep, dict):
            raise ConnectionError('ndshm server sent %r, not a reply object' % (rep,))
        return rep
