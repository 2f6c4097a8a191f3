"""Stage `verify`: data/dialogs.jsonl -> data/verified.jsonl + data/rejected.jsonl (ToolACE's dual-layer check).

Rule layer always; model layer (three LLM judges) unless llm=offline, where metrics say "not run".
Rows stream to both outputs as they are decided (atomic files: a killed run leaves neither half-written).
"""
from callforge.core import io
from callforge.core.stage import stage_run
from callforge.verify.judges import PROMPT_VERSION
from callforge.verify.runner import VerifyConfigError, settings_from, verify

IN, VERIFIED, REJECTED = "data/dialogs.jsonl", "data/verified.jsonl", "data/rejected.jsonl"


def writer(f, encode=io.dumps, newline="\n"):
    def write(row) -> None:
        f.write(encode(row))
        f.write(newline)
    return write


def main() -> None:
    with stage_run("verify") as st:
        vc = st.cfg.verify
        try:
            settings, modes, judges = settings_from(vc)
        except VerifyConfigError as e:
            raise SystemExit(f"callforge verify: config error: {e}")
        online = judges and not st.offline
        with open(IN, "rb") as src, io.atomic_open(VERIFIED, "wb") as fv, io.atomic_open(REJECTED) as fr:
            bar = st.progress(None, desc="verify")
            _, _, stats = verify(
                src, settings, modes, judges, gateway=st.gateway if online else None, offline=st.offline,
                temperature=vc.judges.temperature, max_tokens=vc.judges.max_tokens, batch=vc.batch,
                workers=vc.workers, progress=bar.update, on_verified=writer(fv, encode=lambda line: line, newline=b"\n"), on_rejected=writer(fr))
            bar.close()
        for path in (VERIFIED, REJECTED):
            st.outputs[path] = io.md5_file(path)
        st.stats.update(stats)
        st.stats["judges_prompt_version"] = PROMPT_VERSION if online else None


if __name__ == "__main__":
    main()
