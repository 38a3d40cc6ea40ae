"""Instances of a template (``/api/v1/templates/{id}/instances``): the steps of bots that
run it. An instance is a proxy step whose ``template_instance`` names the template with its
input and output mappings; making one here is making that step
(:func:`~agenthub.scenarios.service_parts.create_step`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.caller import Caller
from agenthub.scenarios import checks, service_parts, template_schemas
from agenthub.scenarios.models import Step
from agenthub.scenarios.schemas import StepCreate, TemplateInstance, TemplateInstanceCreate


async def list_instances(session: AsyncSession, *, caller: Caller, template_id: str) -> list[Step]:
    """The steps (of bots the caller may reach) that are instances of the template."""
    template = await service_parts.get_template(session, caller=caller, template_id=template_id)
    return await service_parts.listed_instances(session, caller, template.id)


async def create_instance(
    session: AsyncSession, *, caller: Caller, template_id: str, data: TemplateInstanceCreate
) -> Step:
    """A new proxy step of ``data.bot_id`` running the template."""
    template = await service_parts.get_template(session, caller=caller, template_id=template_id)
    checks.raise_first(checks.variable_names("outputs", data.outputs.items()) + template_schemas.instance_problems(
        "", inputs_schema=template.inputs, outputs_schema=template.outputs, inputs=data.inputs, outputs=data.outputs,
    ))
    step = StepCreate(
        bot_id=data.bot_id, key=data.key, name=data.name or template.name, is_proxy=True,
        template_instance=TemplateInstance(template_id=template.id, inputs=data.inputs, outputs=data.outputs),
        position=data.position,
    )
    return await service_parts.create_step(session, caller=caller, data=step)
