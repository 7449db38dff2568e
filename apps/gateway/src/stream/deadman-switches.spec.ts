import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { DeadmanSwitches } from './deadman-switches.js';

const A = { trader: '0x00000000000000000000000000000000000000aa' as const };
const B = { trader: '0x00000000000000000000000000000000000000bb' as const };

describe('dead-man switches (per account, outliving the arming connection)', () => {
  let fired: string[];
  let switches: DeadmanSwitches<typeof A | typeof B>;
  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    fired = [];
    switches = new DeadmanSwitches((s) => fired.push(s.trader));
  });
  afterEach(() => {
    switches.close();
    mock.timers.reset();
  });

  it('fires after the timeout without heartbeats, once', () => {
    switches.arm({}, A, 1_000);
    mock.timers.tick(999);
    assert.deepEqual(fired, []);
    mock.timers.tick(1);
    assert.deepEqual(fired, [A.trader]);
    mock.timers.tick(10_000);
    assert.deepEqual(fired, [A.trader]);
    assert.equal(switches.timeoutOf(A.trader), undefined);
  });

  it("restarts on the arming connection's heartbeat only", () => {
    const conn = {};
    const other = {};
    switches.arm(conn, A, 1_000);
    mock.timers.tick(900);
    assert.equal(switches.heartbeat(conn, A.trader), true);
    mock.timers.tick(900);
    assert.equal(switches.heartbeat(other, A.trader), false, "another connection's ping does not keep it alive");
    assert.deepEqual(fired, []);
    mock.timers.tick(100);
    assert.deepEqual(fired, [A.trader]);
  });

  it('a new session of the account takes the switch over by re-arming, or disarms it', () => {
    const crashed = {};
    const fresh = {};
    switches.arm(crashed, A, 1_000);
    switches.arm(fresh, A, 5_000);
    mock.timers.tick(4_000);
    assert.equal(switches.heartbeat(crashed, A.trader), false);
    assert.equal(switches.heartbeat(fresh, A.trader), true);
    mock.timers.tick(4_999);
    assert.deepEqual(fired, []);
    assert.equal(switches.disarm(A.trader), true);
    assert.equal(switches.disarm(A.trader), false);
    mock.timers.tick(60_000);
    assert.deepEqual(fired, []);
  });

  it('keeps accounts apart', () => {
    switches.arm({}, A, 1_000);
    switches.arm({}, B, 2_000);
    switches.disarm(A.trader);
    mock.timers.tick(2_000);
    assert.deepEqual(fired, [B.trader]);
  });
});
