"""Post attachments (issue 8, item 12): only allowed content is stored, and a file
reaches only those who may see its post, always as a download."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve, reverse
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from common.errors import ValidationFailed
from moderation.models import PostAttachment
from moderation.services import posts
from tests.common.upload_samples import (
    EXE,
    SVG,
    docx_bytes,
    pdf_bytes,
    png_bytes,
    upload,
)
from tests.moderation.factories import make_post, submit


def _id(value):
    """Readable, stable test ids: file names and codes as they are, file contents by
    kind (generated PDFs differ from run to run, which xdist workers must not see)."""
    return value if isinstance(value, str) else "bytes"



@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _attach(ns, name, data, post=None):
    post = post or make_post(ns)
    return posts.attachment_add(post=post, actor=post.author, upload=upload(name, data))


@pytest.mark.parametrize("name,data,code", [
    ("通知.pdf", EXE, "upload_type_refused"),
    ("logo.svg", SVG, "upload_type_refused"),
    ("scan.pdf", png_bytes(), "upload_extension_mismatch"),
], ids=_id)
def test_refused_files_are_not_stored(world, name, data, code):
    post = make_post(world.mine)
    with pytest.raises(ValidationFailed) as info:
        _attach(world.mine, name, data, post)
    assert info.value.code == code and "file" in info.value.fields
    assert not PostAttachment.objects.filter(post=post).exists()
    post.refresh_from_db()
    assert post.current_revision.number == 1


@pytest.mark.parametrize("name,data,content_type", [
    ("通知.pdf", pdf_bytes(), "application/pdf"),
    ("图.png", png_bytes(), "image/png"),
    ("方案.docx", docx_bytes(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
], ids=_id)
def test_real_files_are_stored_with_their_sniffed_type(world, name, data, content_type):
    attachment = _attach(world.mine, name, data)
    assert attachment.content_type == content_type and attachment.name == name
    with attachment.file.open("rb") as f:
        assert f.read() == data


def test_api_refuses_a_disguised_executable(world):
    post = make_post(world.mine)
    api = APIClient()
    api.force_authenticate(post.author)
    r = api.post(f"/api/v1/posts/{post.pk}/attachments/",
                 {"file": upload("a.pdf", EXE, "application/pdf")}, format="multipart")
    assert r.status_code == 400
    assert r.json()["code"] == "upload_type_refused" and "file" in r.json()["fields"]


def test_page_refuses_a_disguised_executable(world, client):
    post = make_post(world.mine)
    client.force_login(post.author)
    r = client.post(reverse("moderation:post_attach", args=[post.pk]),
                    {"file": upload("a.pdf", EXE)}, follow=True)
    assert r.status_code == 200
    assert not PostAttachment.objects.filter(post=post).exists()


def _download_url(attachment):
    return reverse("moderation:attachment_download",
                   args=[attachment.post_id, attachment.pk])


@pytest.mark.parametrize("who", [Role.OPERATOR, Role.DEPARTMENT_HEAD,
                                 Role.CONFIDENTIALITY_REVIEWER, Role.SUPERVISOR])
def test_the_posts_organization_and_reviewers_download(world, client, who):
    ns = world.mine
    data = pdf_bytes()
    attachment = _attach(ns, "通知.pdf", data)
    submit(attachment.post, ns)
    user = ns.users[who]
    client.force_login(user)
    r = client.get(_download_url(attachment))
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["Content-Type"] == "application/pdf"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert b"".join(r.streaming_content) == data
    event = AuditEvent.objects.get(action="moderation.attachment_download")
    assert event.actor_id == user.pk and event.target_id == str(attachment.pk)
    assert event.organization_id == attachment.post.organization_id


def test_the_post_page_links_the_scoped_route(world, client):
    attachment = _attach(world.mine, "图.png", png_bytes())
    client.force_login(attachment.post.author)
    page = client.get(reverse("moderation:post_detail", args=[attachment.post_id]))
    assert _download_url(attachment) in page.content.decode()
    assert attachment.file.url not in page.content.decode()


@pytest.mark.parametrize("who", [Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.SUPERVISOR])
def test_another_organization_gets_404(world, client, who):
    attachment = _attach(world.mine, "图.png", png_bytes())
    client.force_login(world.other.users[who])
    assert client.get(_download_url(attachment)).status_code == 404
    assert not AuditEvent.objects.filter(action="moderation.attachment_download").exists()


def test_an_attachment_of_another_post_gets_404(world, client):
    ns = world.mine
    attachment = _attach(ns, "图.png", png_bytes())
    other_post = make_post(ns)
    client.force_login(ns.users[Role.OPERATOR])
    url = reverse("moderation:attachment_download", args=[other_post.pk, attachment.pk])
    assert client.get(url).status_code == 404


def test_anonymous_is_sent_to_sign_in(world, client):
    attachment = _attach(world.mine, "图.png", png_bytes())
    r = client.get(_download_url(attachment))
    assert r.status_code == 302 and "login" in r["Location"]


def test_media_has_no_public_url(world):
    attachment = _attach(world.mine, "图.png", png_bytes())
    with pytest.raises(Resolver404):
        resolve(attachment.file.url)


def test_the_stored_type_is_served_not_one_guessed_from_the_name(world, client):
    """Files attached before the check have no sniffed type: they are served as
    octet-stream, never as what their name claims."""
    attachment = _attach(world.mine, "图.png", png_bytes())
    # A row as it was before the check existed (written directly on purpose).
    PostAttachment.objects.filter(pk=attachment.pk).update(content_type="")
    client.force_login(attachment.post.author)
    r = client.get(_download_url(attachment))
    assert r["Content-Type"] == "application/octet-stream"
