/**
 * `RaftTransport`: how a store's Raft messages reach other stores. The store batches the
 * envelopes of all its shards per destination store and hands each batch over at once
 * (one call per store pair per flush, as TiKV batches per connection). Delivery is best
 * effort: a batch may be lost, delayed or reordered, which Raft tolerates.
 *
 * `LocalRaftNetwork` connects stores of one process (tests, simulation). It copies every
 * batch through the wire encoding, so what arrives is what an RPC transport would carry,
 * and it can cut links between stores (partitions) or take a store off the network.
 */
import type { RaftEnvelope } from "../shard/codec.ts";
import { decode, encode } from "../shard/codec.ts";

/** Sends batches of Raft envelopes to other stores. */
export interface RaftTransport {
  /** Hands `envelopes` (all for `toStoreId`) to the network; never throws for delivery. */
  send(toStoreId: number, envelopes: readonly RaftEnvelope[]): void;
}

/** Receives batches from the network. */
export type RaftReceiver = (envelopes: readonly RaftEnvelope[]) => void;

/** An in-process network between stores, with partitions. */
export class LocalRaftNetwork {
  private readonly receivers = new Map<number, RaftReceiver>();
  private readonly cut = new Set<string>();
  /** Batches delivered and dropped, for tests. */
  delivered = 0;
  dropped = 0;

  /** The transport a store with id `fromStoreId` sends through. */
  transport(fromStoreId: number): RaftTransport {
    return {
      send: (toStoreId, envelopes) => this.deliver(fromStoreId, toStoreId, envelopes),
    };
  }

  /** Attaches a store's receiver (a restarted store attaches again). */
  attach(storeId: number, receiver: RaftReceiver): void {
    this.receivers.set(storeId, receiver);
  }

  /** Takes a store off the network (stopped). */
  detach(storeId: number, receiver?: RaftReceiver): void {
    if (receiver === undefined || this.receivers.get(storeId) === receiver) {
      this.receivers.delete(storeId);
    }
  }

  /** Cuts both directions between `a` and `b`. */
  partition(a: number, b: number): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  /** Cuts `storeId` from every other store. */
  isolate(storeId: number, others: readonly number[]): void {
    for (const o of others) if (o !== storeId) this.partition(storeId, o);
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear();
  }

  private deliver(from: number, to: number, envelopes: readonly RaftEnvelope[]): void {
    if (envelopes.length === 0) return;
    if (this.cut.has(`${from}>${to}`) || !this.receivers.has(to)) {
      this.dropped++;
      return;
    }
    const bytes = encode(envelopes);
    void Promise.resolve().then(() => {
      const receiver = this.receivers.get(to);
      if (receiver === undefined || this.cut.has(`${from}>${to}`)) {
        this.dropped++;
        return;
      }
      this.delivered++;
      receiver(decode<RaftEnvelope[]>(bytes));
    });
  }
}
