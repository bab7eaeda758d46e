/**
 * Tests of `NodeFileSystem`: the shared file-system conformance suite, each case in its
 * own directory under a temporary directory that is removed when the tests finish.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before } from "node:test";
import { registerFileSystemConformanceTests } from "../env_conformance.ts";
import { NodeFileSystem } from "./file_system.ts";

let tempRoot: string | undefined;
let caseCount = 0;

before(async () => {
  tempRoot = await fs.mkdtemp(path.join(os.tmpdir(), "tessera-env-fs-"));
});

after(async () => {
  if (tempRoot !== undefined) await fs.rm(tempRoot, { recursive: true, force: true });
});

registerFileSystemConformanceTests({
  name: "NodeFileSystem",
  create: async () => {
    if (tempRoot === undefined) throw new Error("the temporary directory was not created");
    const root = path.join(tempRoot, `case-${caseCount++}`);
    await fs.mkdir(root);
    return { fs: new NodeFileSystem(), root };
  },
});
