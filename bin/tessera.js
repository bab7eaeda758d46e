#!/usr/bin/env node
// Launcher for the `tessera` command. Tessera runs on Node 24 (TypeScript through its
// built-in type stripping), which `npm install` brings in as the `node` package. If the
// `node` that started this file is another version, re-run this file under
// node_modules/node/bin/node, passing arguments, stdio, signals and the exit status
// through; under Node 24, run src/cmd/main.ts. Plain JavaScript, so any Node can read it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { URL, fileURLToPath } from "node:url";

const requiredMajor = 24;
const major = Number(process.versions.node.split(".")[0]);

if (major === requiredMajor) {
  const { main } = await import("../src/cmd/main.ts");
  await main(process.argv);
} else {
  reexec();
}

function reexec() {
  const launcher = fileURLToPath(import.meta.url);
  const node24 = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  const running = `tessera needs Node ${requiredMajor}, but this is Node ${process.versions.node}`;
  if (!existsSync(node24)) {
    console.error(`${running}, and ${node24} is missing: run npm install`);
    process.exit(1);
  }
  // Set in the child: stops a loop if the bundled binary is somehow not Node 24 either.
  if (process.env.TESSERA_LAUNCHER_REEXEC === "1") {
    console.error(`${running}, even as ${node24}: run npm install`);
    process.exit(1);
  }
  const child = spawn(node24, [launcher, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, TESSERA_LAUNCHER_REEXEC: "1" },
  });
  // A terminal's Ctrl-C reaches both processes (same process group); a signal sent to
  // this pid alone is passed on. Either way the child decides how to stop, and we follow.
  const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of forwarded) process.on(signal, forward);
  child.on("error", (error) => {
    console.error(`tessera: cannot start ${node24}: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    for (const name of forwarded) process.off(name, forward);
    if (signal !== null) {
      // Die of the same signal, so our parent sees what really happened.
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
