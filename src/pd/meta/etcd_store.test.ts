/**
 * `EtcdMetaStore` against a real one-member etcd started on free ports: the metadata-store
 * conformance suite. Skipped with a printed reason where etcd is not installed (failing
 * under CI=true instead).
 */
import { after, before } from "node:test";
import { createNodeEnv } from "../../env/mod.ts";
import { type EtcdCluster, etcdUnavailable, startEtcdCluster } from "../test_etcd_cluster.ts";
import { EtcdMetaStore } from "./etcd_store.ts";
import { registerMetaStoreConformance } from "./test_meta_conformance.ts";

const env = createNodeEnv();
const why = etcdUnavailable();
let cluster: EtcdCluster | undefined;

if (why !== undefined) console.log(`skipping EtcdMetaStore tests: ${why}`);

before(
  async () => {
    if (why === undefined) cluster = await startEtcdCluster(1);
  },
  { timeout: 40_000 },
);

after(async () => {
  await cluster?.stop();
});

registerMetaStoreConformance("EtcdMetaStore", {
  skip: () => why,
  open: () => {
    if (cluster === undefined) throw new Error("etcd cluster did not start");
    return Promise.resolve(
      new EtcdMetaStore(env, { endpoints: cluster.endpoints, namespace: "/tessera-test" }),
    );
  },
});
