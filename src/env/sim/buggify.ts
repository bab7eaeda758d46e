/**
 * `SimBuggify`: the simulator's side of `Env.buggify`, fault points placed in production
 * code that fire only in simulation (FoundationDB's BUGGIFY).
 *
 * Off until `enable(true)`. Once on, each site is switched on or off for the whole run the
 * first time it is asked (on with `siteOnProbability`), so a run explores a few sites hard
 * instead of every site a little; an active site then fires with the probability its
 * caller passes. Draws come from the buggify's own seeded `Prng`, so turning it on does not
 * shift the draws of the network, the disks or `random`. One per simulation, shared by its
 * processes; `fired` counts what fired, per site, for the run's report.
 */
import { Prng, assert } from "../../base/mod.ts";

/** Chance that a site is active in a run, decided when it is first reached. */
const siteOnProbability = 0.25;

/** Deterministic, seeded fault points; see the file comment. */
export class SimBuggify {
  private readonly prng: Prng;
  private enabled = false;
  private readonly sites = new Map<string, boolean>();
  /** Times each site fired. */
  readonly fired = new Map<string, number>();

  constructor(options: { readonly seed: number }) {
    this.prng = new Prng(options.seed);
  }

  /** Turns the fault points on or off (off: `fire` always answers false). */
  enable(on: boolean): void {
    this.enabled = on;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Whether fault point `site` fires now; `probability` defaults to 0.05. */
  fire(site: string, probability = 0.05): boolean {
    if (!this.enabled) return false;
    assert(probability >= 0 && probability <= 1, `buggify ${site}: bad probability`);
    let active = this.sites.get(site);
    if (active === undefined) {
      active = this.prng.nextBool(siteOnProbability);
      this.sites.set(site, active);
    }
    if (!active || !this.prng.nextBool(probability)) return false;
    this.fired.set(site, (this.fired.get(site) ?? 0) + 1);
    return true;
  }

  /** Sites reached so far and whether each is active, sorted by name. */
  activeSites(): { site: string; active: boolean }[] {
    return [...this.sites].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([site, active]) => ({ site, active }));
  }
}
