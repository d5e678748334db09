#!/usr/bin/env python3
"""Is a Kafka broker up and ready? A dependency-free readiness probe.

    kafka-ping.py HOST:PORT [--timeout SECONDS] [-v]

Sends an ApiVersions v0 request (api_key 18) and expects error_code 0, then
a Metadata v0 request (api_key 3, all topics) and expects at least one
broker in the answer: a KRaft broker lists itself only once it has
registered with the controller and been unfenced, which is when clients can
really use it. Exit status: 0 ready, 1 not (yet) ready, 2 usage error.

Used by scripts/kafka-local; starting a JVM-based Kafka tool for each probe
would cost more than the probe itself.
"""

import argparse
import socket
import struct
import sys

API_METADATA = 3
API_VERSIONS = 18
CLIENT_ID = b"newstap-kafka-ping"


class ProtocolError(Exception):
    pass


def request(sock, api_key, correlation_id, body=b""):
    """Send one request (header v1, version 0) and return the response body."""
    header = struct.pack(">hhih", api_key, 0, correlation_id, len(CLIENT_ID))
    payload = header + CLIENT_ID + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    if size < 4 or size > 64 * 1024 * 1024:
        raise ProtocolError(f"implausible response size {size}")
    data = recv_exact(sock, size)
    got_id = struct.unpack_from(">i", data, 0)[0]
    if got_id != correlation_id:
        raise ProtocolError(f"correlation id {got_id}, expected {correlation_id}")
    return data[4:]  # response header v0 is just the correlation id


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ProtocolError("connection closed mid-response")
        buf += chunk
    return bytes(buf)


def check_api_versions(body):
    """Return the number of APIs listed; raise unless error_code is 0."""
    error_code, count = struct.unpack_from(">hi", body, 0)
    if error_code != 0:
        raise ProtocolError(f"ApiVersions error_code {error_code}")
    if count <= 0 or len(body) < 6 + 6 * count:
        raise ProtocolError(f"ApiVersions lists {count} APIs in {len(body)} bytes")
    return count


def metadata_brokers(body):
    """Return [(node_id, host, port)] from a Metadata v0 response body."""
    (count,) = struct.unpack_from(">i", body, 0)
    pos = 4
    brokers = []
    for _ in range(count):
        node_id, host_len = struct.unpack_from(">ih", body, pos)
        pos += 6
        host = body[pos:pos + host_len].decode("utf-8", "replace")
        pos += host_len
        (port,) = struct.unpack_from(">i", body, pos)
        pos += 4
        brokers.append((node_id, host, port))
    return brokers


def ping(host, port, timeout):
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        apis = check_api_versions(request(sock, API_VERSIONS, 1))
        # Metadata v0: topics array; an empty array means "all topics".
        brokers = metadata_brokers(request(sock, API_METADATA, 2,
                                           struct.pack(">i", 0)))
    if not brokers:
        raise ProtocolError("Metadata lists no brokers yet")
    return apis, brokers


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="HOST:PORT of the broker")
    parser.add_argument("--timeout", type=float, default=2.0,
                        help="socket timeout in seconds (default 2)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="say what the broker answered, or why not")
    args = parser.parse_args()

    host, sep, port = args.address.rpartition(":")
    if not sep or not host or not port.isdigit():
        parser.error(f"address must be HOST:PORT, got {args.address!r}")
    try:
        apis, brokers = ping(host.strip("[]"), int(port), args.timeout)
    except (OSError, ProtocolError, struct.error) as exc:
        if args.verbose:
            print(f"kafka-ping: {args.address}: not ready: {exc}", file=sys.stderr)
        return 1
    if args.verbose:
        listed = ", ".join(f"{n}@{h}:{p}" for n, h, p in brokers)
        print(f"kafka-ping: {args.address}: ready ({apis} APIs; brokers {listed})",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
