"""No credential leaves for a callback-supplied URL, whatever its form.

Two local HTTP servers record every request and its Authorization header: "api" plays
46elks (the configured ``ELKS_API_URL``), "evil" is any other origin. Recording and MMS image
callbacks name URLs on the evil server in every form URL parsers disagree on; downloads must
reach only the api server, and redirects off it are refused without following them.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django_scopes import scope

from calls.events import recording_received
from calls.models import Recording
from calls.recordings import recording_download
from messaging.models import Message, MessageImage
from messaging.sync import mms_images_fetch
from providers.elks.client import ElksClient
from providers.elks.errors import ElksInvalidResponse
from providers.elks.ids import image_ref_from_callback, recording_id_from_callback

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 28
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class Capture:
    """A local server answering GETs from ``routes`` (path -> (status, headers, body))."""

    server: ThreadingHTTPServer
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def credentials_seen(self) -> list[str]:
        return [auth for _, auth in self.seen if auth]


def _serve() -> Capture:
    capture: Capture

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            capture.seen.append((self.path, self.headers.get("Authorization")))
            status, headers, body = capture.routes.get(self.path, (404, {}, b"Not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    capture = Capture(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    threading.Thread(target=capture.server.serve_forever, args=(0.02,), daemon=True).start()
    return capture


@pytest.fixture
def servers(settings, tmp_path) -> Iterator[tuple[Capture, Capture]]:
    api, evil = _serve(), _serve()
    settings.ELKS_API_URL = f"{api.origin}/a1"
    settings.MEDIA_ROOT = tmp_path
    yield api, evil
    for capture in (api, evil):
        capture.server.shutdown()
        capture.server.server_close()


def _hostile_urls(evil: Capture, api: Capture, path: str) -> list[str]:
    """Callback URLs that point (for some parser) at the evil server, or at plain http."""
    e, a = evil.port, api.port
    return [
        f"http://127.0.0.1:{e}{path}",
        f"http://user@127.0.0.1:{e}{path}",
        f"http://127.0.0.1:{a}@127.0.0.1:{e}{path}",
        f"http://127.0.0.1:{a}\\@127.0.0.1:{e}{path}",
        f"http://127.0.0.1:{e}\\@127.0.0.1:{a}{path}",
        f"http://127.0.0.1:{e}#@127.0.0.1:{a}{path}",
        f"http://127.0.0.1:{e}?@127.0.0.1:{a}{path}",
        f"http://%31%32%37.0.0.1:{e}{path}",
        f"http://xn--46elks-9ua.example:{e}{path}",
        f"http://api.46elks.com.127.0.0.1.nip.io:{e}{path}",
        f"http://localhost:{e}{path}",
        f"//127.0.0.1:{e}{path}",
        f"https://api.46elks.com:{e}{path}",
        f"http://api.46elks.com{path}",
        f"http://127.0.0.1:{e}/a1{path}/../../x{path}",
        f"  http://127.0.0.1:{e}{path}  ",
    ]


def _auth(tenant) -> str:
    raw = f"{tenant.elks_subaccount_id}:{tenant.elks_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def test_ids_are_taken_from_callbacks_strictly() -> None:
    assert recording_id_from_callback("https://api.46elks.com/a1/recordings/c1ab-r0.wav") == (
        "c1ab-r0"
    )
    assert recording_id_from_callback("https://x/recordings/c..%2f-r0.wav", "c9") == "c9-r0"
    assert recording_id_from_callback("https://x/a/b/..", "../etc") is None
    assert recording_id_from_callback(None, None) is None
    ref = image_ref_from_callback("https://api.46elks.com/a1/images/m1f-i2.PNG")
    assert ref is not None and (ref.id, ref.ext) == ("m1f-i2", "png")
    for bad in ("https://x/images/i1", "https://x/images/m1-i0.svg", "https://x/m1-i0%2f.jpg"):
        assert image_ref_from_callback(bad) is None


def test_recording_callbacks_never_send_credentials_elsewhere(world, servers) -> None:
    api, evil = servers
    tenant = world.tenant_a
    for path in ("/a1/recordings/c7-r0.wav", "/recordings/c7-r0.wav"):
        evil.routes[path] = (200, {"Content-Type": "audio/wav"}, WAV)
    api.routes["/a1/recordings/c7-r0.wav"] = (200, {"Content-Type": "audio/wav"}, WAV)
    urls = _hostile_urls(evil, api, "/a1/recordings/c7-r0.wav")
    with scope(tenant=tenant.pk):
        for url in urls:
            Recording.objects.all().delete()
            event = SimpleNamespace(
                tenant_id=tenant.pk,
                kind="recording",
                payload={"callid": "c7", "wav": url, "duration": "1"},
            )
            recording_received(event)
            recording = Recording.objects.get()
            assert recording.elks_id == "c7-r0", url
            assert recording_download(recording_id=recording.pk), url
    assert evil.seen == []
    assert {p for p, _ in api.seen} == {"/a1/recordings/c7-r0.wav"}
    assert len(api.seen) == len(urls)
    assert set(api.credentials_seen()) == {_auth(tenant)}


def test_mms_image_callbacks_never_send_credentials_elsewhere(world, servers) -> None:
    api, evil = servers
    tenant = world.tenant_a
    evil.routes["/a1/images/m5-i0.png"] = (200, {}, PNG)
    api.routes["/a1/images/m5-i0.png"] = (200, {}, PNG)
    urls = _hostile_urls(evil, api, "/a1/images/m5-i0.png")
    with scope(tenant=tenant.pk):
        message = Message.objects.create(
            tenant=tenant,
            direction=Message.Direction.IN,
            kind=Message.Kind.MMS,
            ours="+46766861475",
            other="+46700000001",
            status=Message.Status.RECEIVED,
            body="",
            elks_id="m5",
        )
        for url in urls:
            ref = image_ref_from_callback(url)
            MessageImage.objects.create(
                tenant=tenant,
                message=message,
                source_url=url[:500],
                elks_image_id=ref.id if ref else "",
                file_type=ref.ext if ref else "",
            )
        # Whatever the URL said, only 46elks' API base was asked, for the id it names.
        mms_images_fetch(message_id=message.pk)
    assert evil.seen == []
    assert api.seen and all(p.startswith("/a1/") for p, _ in api.seen)
    assert set(api.credentials_seen()) == {_auth(tenant)}


@pytest.mark.parametrize(
    "location",
    [
        "{evil}/a1/recordings/c8-r0.wav",
        "{evil_user}/a1/recordings/c8-r0.wav",
        "{api}\\@127.0.0.1:{evil_port}/a1/recordings/c8-r0.wav",
        "{api}@127.0.0.1:{evil_port}/a1/recordings/c8-r0.wav",
        "http://localhost:{api_port}/a1/recordings/c8-r0.wav",
        "https://127.0.0.1:{api_port}/a1/recordings/c8-r0.wav",
        "//127.0.0.1:{evil_port}/a1/recordings/c8-r0.wav",
        "{api}/other/c8-r0.wav",
        "/a1/../x/c8-r0.wav",
        "http://xn--api-9ua.example:{evil_port}/a1/recordings/c8-r0.wav",
        "http://%31%32%37.0.0.1:{evil_port}/a1/recordings/c8-r0.wav",
    ],
)
def test_redirects_off_the_api_base_are_refused(servers, location: str) -> None:
    api, evil = servers
    target = location.format(
        api=api.origin,
        evil=evil.origin,
        evil_user=f"http://user:pw@127.0.0.1:{evil.port}",
        evil_port=evil.port,
        api_port=api.port,
    )
    api.routes["/a1/recordings/c8-r0.wav"] = (302, {"Location": target}, b"")
    evil.routes["/a1/recordings/c8-r0.wav"] = (200, {}, WAV)
    client = ElksClient(base_url=f"{api.origin}/a1", username="u1", password="SECRET", timeout=2)
    with pytest.raises(ElksInvalidResponse):
        client.recording_wav("c8-r0")
    assert evil.seen == []
    assert [p for p, _ in api.seen] == ["/a1/recordings/c8-r0.wav"]


def test_a_redirect_under_the_api_base_is_followed(servers) -> None:
    api, _ = servers
    api.routes["/a1/images/m9-i0.jpg"] = (302, {"Location": "/a1/files/m9-i0.jpg"}, b"")
    api.routes["/a1/files/m9-i0.jpg"] = (200, {}, PNG)
    client = ElksClient(base_url=f"{api.origin}/a1", username="u1", password="SECRET", timeout=2)
    assert client.image_file("m9-i0") == PNG
    assert [p for p, _ in api.seen] == ["/a1/images/m9-i0.jpg", "/a1/files/m9-i0.jpg"]


def test_the_client_takes_ids_never_urls(servers) -> None:
    api, evil = servers
    client = ElksClient(base_url=f"{api.origin}/a1", username="u1", password="SECRET", timeout=2)
    for bad in (f"{evil.origin}/x", "../c1-r0", "c1-r0/../../x", "c1-r0?x=@evil", "c1%2F-r0"):
        with pytest.raises(ValueError):
            client.recording_wav(bad)
        with pytest.raises(ValueError):
            client.image_file(bad)
    with pytest.raises(ValueError):
        client.image_file("m1-i0", ext="svg")
    assert api.seen == [] and evil.seen == []


def test_downloads_are_capped(servers) -> None:
    api, _ = servers
    api.routes["/a1/recordings/c1-r0.wav"] = (200, {}, WAV * 100)
    client = ElksClient(base_url=f"{api.origin}/a1", username="u1", password="SECRET", timeout=2)
    with pytest.raises(ElksInvalidResponse):
        client.recording_wav("c1-r0", max_bytes=100)
