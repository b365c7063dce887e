"""Chats with a flow through DB-GPT's own Python client (dbgpt_client 0.8.2).

Run by test/runtime/chat.test.ts with the DB-GPT venv's python, against flowreg (with runtimes)
and against a real DB-GPT:

    python dbgpt_client_chat.py <api_base, e.g. http://127.0.0.1:5670/api/v2> <flow uid> <model>

It writes one JSON object to the file named by FLOWREG_RESULT_FILE (not stdout: DB-GPT prints
there on import): "chat" (Client.chat's answer content) and "stream" (the content of
every chunk Client.chat_stream yielded, in order), or {"error": "<exception class>: <text>"}.
"""

import asyncio
import json
import os
import sys

from dbgpt_client import Client


async def main(api_base: str, uid: str, model: str) -> dict:
    client = Client(api_base=api_base)
    out: dict = {}
    try:
        try:
            res = await client.chat(model=model, messages="hello from dbgpt_client", chat_mode="chat_flow", chat_param=uid)
            out["chat"] = res.choices[0].message.content
        except Exception as e:  # the client wraps failures in ClientException
            out["chat"] = {"error": f"{type(e).__name__}: {e}"}
        try:
            chunks = []
            async for chunk in client.chat_stream(model=model, messages="stream from dbgpt_client", chat_mode="chat_flow", chat_param=uid):
                if chunk.choices:
                    chunks.append(chunk.choices[0].delta.content or "")
            out["stream"] = chunks
        except Exception as e:
            out["stream"] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        await client.aclose()
    return out


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
    with open(os.environ["FLOWREG_RESULT_FILE"], "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
