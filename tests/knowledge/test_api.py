"""Knowledge bases over HTTP: created, listed, read and deleted in the caller's organisation;
documents of each type uploaded and processed in the background; errors with their status."""

from __future__ import annotations

from pathlib import Path

from tests.agents.helpers import assert_error, client_for
from tests.knowledge.helpers import create_kb, make_pdf, upload, wait_for_document
from tests.support.accounts import api_key, bearer, second_org, user_token

KBS = "/api/v1/knowledge-bases"


async def test_knowledge_bases_are_created_listed_read_and_deleted(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path, embedding_model="fake") as (_app, client):
        default = await create_kb(client, embedding_model=None)
        assert default["embedding_model"] == "fake"  # EMBEDDING_MODEL
        assert default["embedding_dimensions"] is None and default["documents"] == 0
        sized = await create_kb(client, name="Sized", embedding_dimensions=32)
        assert sized["embedding_dimensions"] == 32

        listed = (await client.get(KBS)).json()
        assert [kb["id"] for kb in listed] == [default["id"], sized["id"]]
        read = await client.get(f"{KBS}/{sized['id']}")
        assert read.status_code == 200 and read.json()["name"] == "Sized"

        assert (await client.delete(f"{KBS}/{sized['id']}")).status_code == 204
        assert_error(await client.get(f"{KBS}/{sized['id']}"), 404, "not_found")
        assert_error(await client.delete(f"{KBS}/{sized['id']}"), 404, "not_found")
        assert [kb["id"] for kb in (await client.get(KBS)).json()] == [default["id"]]
        actions = [r["action"] for r in (await client.get("/api/v1/audit")).json()["items"]]
        assert actions.count("knowledge_base.create") == 2 and actions.count("knowledge_base.delete") == 1


async def test_bad_input_is_refused_saying_why(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        assert_error(await client.post(KBS, json={}), 422)
        assert_error(await client.post(KBS, json={"name": "  "}), 422)
        assert_error(await client.post(KBS, json={"name": "x", "embedding_dimensions": 0}), 422)
        assert_error(await client.post(KBS, json={"name": "x", "embedding_base_url": "ftp://example.com"}), 422)
        credentials = {"name": "x", "embedding_base_url": "https://user:secret@example.com/v1"}
        assert "secret" not in assert_error(await client.post(KBS, json=credentials), 422)["message"]
        assert_error(await client.post(KBS, json={"name": "x", "unknown": 1}), 422)
        assert_error(await client.get(f"{KBS}/kb_nope"), 404, "not_found")
        assert_error(await upload(client, "kb_nope", "a.txt", b"hello"), 404, "not_found")


async def test_only_owners_and_admins_may_embed_at_a_private_address(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (app, client):
        local = {"name": "Local", "embedding_model": "nomic", "embedding_base_url": "http://127.0.0.1:11434/v1"}
        owned = await client.post(KBS, json=local)
        assert owned.status_code == 201, owned.text
        assert owned.json()["embedding_base_url"] == "http://127.0.0.1:11434/v1"

        member = bearer(await user_token(app, "member@example.com"))
        refused = assert_error(await client.post(KBS, json=local, headers=member), 422)
        assert "loopback" in refused["message"] and refused["details"][0]["field"] == "embedding_base_url"
        key = bearer(await api_key(app))
        assert_error(await client.post(KBS, json=local, headers=key), 422)

        metadata = {**local, "embedding_base_url": "http://169.254.169.254/v1"}
        assert "metadata" in assert_error(await client.post(KBS, json=metadata), 422)["message"]


async def test_another_organisation_sees_nothing(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (app, client):
        kb = await create_kb(client)
        other = bearer(await second_org(app))
        assert (await client.get(KBS, headers=other)).json() == []
        assert_error(await client.get(f"{KBS}/{kb['id']}", headers=other), 404)
        assert_error(await client.get(f"{KBS}/{kb['id']}/documents", headers=other), 404)
        assert_error(await upload(client, kb["id"], "a.txt", b"x", headers=other), 404)
        assert_error(await client.delete(f"{KBS}/{kb['id']}", headers=other), 404)
        assert (await client.get(f"{KBS}/{kb['id']}")).status_code == 200


async def test_each_document_type_is_processed_to_ready(sqlite_url: str, tmp_path: Path) -> None:
    files = {
        "notes.txt": (b"The office opens at nine o'clock.", "text/plain"),
        "guide.md": (b"# Parking\n\nVisitors park on level two.", "text/markdown"),
        "page.html": (b"<html><script>var x=1;</script><body><p>The canteen serves soup.</p></body></html>",
                      "text/html"),
        "policy.pdf": (make_pdf("Holidays are twenty five days a year."), "application/pdf"),
        "NOTES": (b"plain text known by its media type", "text/plain"),
    }
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        kb = await create_kb(client)
        for name, (data, media_type) in files.items():
            response = await upload(client, kb["id"], name, data, media_type)
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "pending" and response.json()["file_name"] == name
            document = await wait_for_document(client, kb["id"], response.json()["id"])
            assert document["status"] == "ready", document
            assert document["progress"] == 1.0 and document["chunks_done"] == document["chunks_total"] >= 1
            assert document["error"] is None
        shown = (await client.get(f"{KBS}/{kb['id']}")).json()
        assert shown["documents"] == len(files)
        assert shown["embedding_dimensions"] == 256  # learnt from the first embedding


async def test_unsupported_too_large_and_broken_documents(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path, knowledge_max_upload_mb=1) as (_app, client):
        kb = await create_kb(client)
        assert_error(await upload(client, kb["id"], "tool.exe", b"MZ\x90\x00"), 415, "unsupported_media_type")
        assert_error(await upload(client, kb["id"], "big.txt", b"a" * (1024 * 1024 + 1)), 413, "too_large")
        assert_error(await upload(client, kb["id"], "empty.txt", b""), 422)
        no_file = await client.post(f"{KBS}/{kb['id']}/documents", files={"other": ("a.txt", b"x", "text/plain")})
        assert_error(no_file, 422)

        broken = await upload(client, kb["id"], "broken.pdf", b"%PDF-1.4 this is not really a pdf")
        assert broken.status_code == 201, broken.text
        document = await wait_for_document(client, kb["id"], broken.json()["id"])
        assert document["status"] == "failed" and document["error"], document
        assert [d["id"] for d in (await client.get(f"{KBS}/{kb['id']}/documents")).json()] == [broken.json()["id"]]


async def test_a_knowledge_base_is_refused_a_name_or_a_length_it_could_not_keep(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        for body, field in (
            ({"name": "docs\x00"}, "name"),
            ({"name": "\u200b "}, "name"),
            ({"name": "docs", "embedding_dimensions": True}, "embedding_dimensions"),
            ({"name": "docs", "embedding_dimensions": "8"}, "embedding_dimensions"),
        ):
            answer = await client.post(KBS, json=body)
            assert_error(answer, 422)
            assert [d["field"] for d in answer.json()["error"]["details"]] == [field], answer.text
        assert (await client.get(KBS)).json() == []
