"""REST API of alias number configurations, their prompts, agents and call recordings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Response, UploadFile
from pydantic import BaseModel, Field, TypeAdapter

from voipdesk.accounts.api_auth import current_account
from voipdesk.accounts.models import Account
from voipdesk.core.http import get_platform
from voipdesk.core.pagination import Page, PageParams, page_params, paginate
from voipdesk.core.platform import Platform
from voipdesk.telephony.aliases import actions, agents, queries, rules
from voipdesk.telephony.aliases.schemas import Configuration, ConfigurationIn

router = APIRouter(tags=["telephony"])
BASE = "/telephony/{group}/numbers/{number}"
_CONFIGURATION = TypeAdapter(Configuration)


def number_of(value: str) -> str:
    value = value.strip().replace(" ", "")
    return value if value.startswith("+") else f"+{value}"


class AgentOut(BaseModel):
    line: str
    status: Literal["available", "on_break", "logged_out"]


class ConfigurationOut(BaseModel):
    number: str
    version: int = Field(description="incremented by every change; 0 before the first one")
    updated_at: datetime | None
    configuration: Configuration
    agents: list[AgentOut] = Field(description="contact center: its agents and their status")
    compiled: dict[str, Any] = Field(description="the record the switch reads for each call")


class AgentStatusIn(BaseModel):
    status: Literal["available", "on_break", "logged_out"]


class AudioOut(BaseModel):
    id: str
    source: Literal["upload", "speech"]
    filename: str
    text: str | None
    duration_ms: int
    size: int
    created_at: datetime


class AudioPage(Page[AudioOut]):
    pass


class SpeechIn(BaseModel):
    text: str = Field(min_length=1, max_length=rules.MAX_SPEECH_CHARACTERS)
    language: Literal["fr", "en"] = "fr"


class RecordingOut(BaseModel):
    id: str
    caller: str
    agent: str | None
    started_at: datetime
    duration_seconds: int
    content_type: str
    size: int


class RecordingPage(Page[RecordingOut]):
    pass


def configuration_out(view: actions.ConfigurationView) -> ConfigurationOut:
    return ConfigurationOut(
        number=view.number,
        version=view.version,
        updated_at=view.updated_at,
        configuration=_CONFIGURATION.validate_python({"type": view.kind, **view.settings}),
        agents=[AgentOut(line=line, status=status) for line, status in view.agents.items()],  # type: ignore[arg-type]
        compiled=view.compiled,
    )


def audio_out(view: actions.AudioView) -> AudioOut:
    return AudioOut(
        id=view.id,
        source=view.source,  # type: ignore[arg-type]
        filename=view.filename,
        text=view.text,
        duration_ms=view.duration_ms,
        size=view.size,
        created_at=view.created_at,
    )


@router.get(f"{BASE}/configuration", response_model=ConfigurationOut)
def get_configuration(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ConfigurationOut:
    with platform.session() as session:
        return configuration_out(
            queries.configuration(session, account.id, group, number_of(number))
        )


@router.put(f"{BASE}/configuration", response_model=ConfigurationOut)
def set_number_configuration(
    group: str,
    number: str,
    body: ConfigurationIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ConfigurationOut:
    """Sets the number's configuration (none, redirect, queue, ivr, contact_center, conference).
    Another type than the current one deletes the current configuration: send
    `confirm_delete: true` (otherwise 409 `configuration-type-change-needs-confirmation`)."""
    with platform.transaction() as session:
        view = actions.save_configuration(
            session,
            platform,
            account.id,
            group,
            number_of(number),
            body.configuration.model_dump(),
            confirm_delete=body.confirm_delete,
            actor=account.id,
            language=account.language,
        )
        return configuration_out(view)


@router.delete(f"{BASE}/configuration", status_code=204)
def delete_configuration(
    group: str,
    number: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    """ "Supprimer la configuration": the number has no configuration any more."""
    with platform.transaction() as session:
        actions.delete_configuration(
            session, platform, account.id, group, number_of(number), account.id
        )
    return Response(status_code=204)


@router.put(f"{BASE}/configuration/agents/{{line}}", response_model=ConfigurationOut)
def set_agent_status(
    group: str,
    number: str,
    line: str,
    body: AgentStatusIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> ConfigurationOut:
    """A contact center agent's status (as `*45#` / `*46#` / `#45#` from the agent's phone)."""
    with platform.transaction() as session:
        view = agents.set_agent_status(
            session,
            platform,
            account.id,
            group,
            number_of(number),
            number_of(line),
            body.status,
            account.id,
        )
        return configuration_out(view)


@router.get(f"{BASE}/audio", response_model=AudioPage)
def list_audio(
    group: str,
    number: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AudioPage:
    with platform.session() as session:
        rows = queries.audio_list(session, account.id, group, number_of(number))
    shown, next_cursor = paginate(rows, key=lambda a: (a.created_at, a.id), page=page)
    return AudioPage(items=[audio_out(a) for a in shown], next_cursor=next_cursor)


@router.post(f"{BASE}/audio", response_model=AudioOut, status_code=201)
async def upload_audio(
    group: str,
    number: str,
    file: UploadFile = File(description="WAV or MP3, converted to WAV 8 kHz mono"),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AudioOut:
    """A recording for the number's prompts (greeting, menus, messages, music on hold)."""
    data = await file.read(rules.MAX_AUDIO_BYTES + 1)
    from starlette.concurrency import run_in_threadpool

    def store() -> AudioOut:
        with platform.transaction() as session:
            return audio_out(
                actions.upload_audio(
                    session,
                    platform,
                    account.id,
                    group,
                    number_of(number),
                    data,
                    file.filename or "",
                    account.id,
                )
            )

    return await run_in_threadpool(store)


@router.post(f"{BASE}/audio/speech", response_model=AudioOut, status_code=201)
def make_spoken_prompt(
    group: str,
    number: str,
    body: SpeechIn,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> AudioOut:
    """A text spoken by text-to-speech (espeak-ng), stored as a recording of the number."""
    with platform.transaction() as session:
        return audio_out(
            actions.speak_audio(
                session,
                platform,
                account.id,
                group,
                number_of(number),
                body.text,
                body.language,
                account.id,
            )
        )


@router.get(
    f"{BASE}/audio/{{audio_id}}",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "WAV, 8 kHz, mono"}},
)
def get_audio(
    group: str,
    number: str,
    audio_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.session() as session:
        content = queries.audio_content(session, account.id, group, number_of(number), audio_id)
    return Response(content, media_type="audio/wav")


@router.get(f"{BASE}/recordings", response_model=RecordingPage)
def list_recordings(
    group: str,
    number: str,
    page: PageParams = Depends(page_params),
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> RecordingPage:
    """Recorded calls of a contact center with "Enregistrement des appels" on, newest first."""
    with platform.session() as session:
        rows = queries.recordings(session, account.id, group, number_of(number))
    shown, next_cursor = paginate(
        rows, key=lambda r: (r.started_at, r.id), page=page, descending=True
    )
    return RecordingPage(
        items=[
            RecordingOut(
                id=r.id,
                caller=r.caller,
                agent=r.agent_number,
                started_at=r.started_at,
                duration_seconds=r.duration_seconds,
                content_type=r.content_type,
                size=r.size,
            )
            for r in shown
        ],
        next_cursor=next_cursor,
    )


@router.get(
    f"{BASE}/recordings/{{recording_id}}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "the recorded call"}},
)
def get_recording_audio(
    group: str,
    number: str,
    recording_id: str,
    platform: Platform = Depends(get_platform),
    account: Account = Depends(current_account),
) -> Response:
    with platform.session() as session:
        content_type, content = queries.recording_content(
            session, account.id, group, number_of(number), recording_id
        )
    return Response(content, media_type=content_type)
