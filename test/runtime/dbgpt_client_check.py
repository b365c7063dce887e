"""Drives DB-GPT's own Python client (dbgpt_client 0.8.2) against a flow API server.

Run by test/runtime/dbgptClient.test.ts with the DB-GPT venv's python, against flowreg and against
a real DB-GPT:

    python dbgpt_client_check.py <api_base, e.g. http://127.0.0.1:5670/api/v2> <create body .json>

It creates the flow of the body with create_flow, then list_flow, list_flow(name=...),
get_flow, update_flow (the flow as read, label and description changed), get_flow, delete_flow,
get_flow again and, last, get_flow and delete_flow of an unknown uid. It writes one JSON object to the file named by FLOWREG_RESULT_FILE (not stdout: DB-GPT prints
there on import):
per step either a summary of what the client returned or {"error": "<exception class>: <text>"}.
"""

import asyncio
import json
import os
import sys
import warnings

from dbgpt.core.awel.flow.flow_factory import FlowPanel
from dbgpt_client import Client
from dbgpt_client.flow import create_flow, delete_flow, get_flow, list_flow, update_flow

UNKNOWN_UID = "flowreg-client-no-such-flow"


def summary(flow: FlowPanel) -> dict:
    """What the tests compare of a FlowPanel the client returned."""
    value = lambda v: getattr(v, "value", v)  # noqa: E731  (enums → their value)
    data = flow.flow_data
    return {
        "type": type(flow).__name__,
        "uid": flow.uid,
        "name": flow.name,
        "label": flow.label,
        "description": flow.description,
        "state": value(flow.state),
        "flow_category": value(flow.flow_category),
        "editable": flow.editable,
        "dag_id": flow.dag_id,
        "version": flow.version,
        "source": flow.source,
        "metadata": flow.metadata is not None,
        "nodes": len(data.nodes) if data else None,
        "edges": len(data.edges) if data else None,
    }


async def step(results: dict, name: str, coro):
    """Runs one client call; records its summary, or the exception it raised."""
    try:
        value = await coro
    except Exception as e:  # the client wraps everything in ClientException
        results[name] = {"error": f"{type(e).__name__}: {e}"}
        return None
    if isinstance(value, list):
        results[name] = [summary(f) for f in value]
    else:
        results[name] = summary(value)
    return value


async def main(api_base: str, body_file: str) -> dict:
    with open(body_file, encoding="utf-8") as f:
        body = json.load(f)
    results: dict = {}
    client = Client(api_base=api_base)
    try:
        created = await step(results, "create", create_flow(client, FlowPanel(**body)))
        uid = created.uid if created else body["uid"]
        await step(results, "list", list_flow(client))
        await step(results, "list_by_name", list_flow(client, name=body["name"]))
        read = await step(results, "get", get_flow(client, uid))
        if read is not None:
            read.label = "Updated by dbgpt_client"
            read.description = "changed through update_flow"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                await step(results, "update", update_flow(client, read))
            results["update_warnings"] = sorted({str(w.category.__name__) for w in caught})
        await step(results, "get_after_update", get_flow(client, uid))
        await step(results, "delete", delete_flow(client, uid))
        await step(results, "get_after_delete", get_flow(client, uid))
        await step(results, "get_unknown", get_flow(client, UNKNOWN_UID))
        await step(results, "delete_unknown", delete_flow(client, UNKNOWN_UID))
    finally:
        await client.aclose()
    return results


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2]))
    with open(os.environ["FLOWREG_RESULT_FILE"], "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
