// The per-account rate-limit key: a request naming a trader from another address must not spend that
// trader's budget (the trader is named before any signature is checked).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traderOrIp } from './app.module.js';

const victim = '0x1111111111111111111111111111111111111111';

describe('per-account rate-limit key', () => {
  it("keys a named trader together with the caller's IP, so another IP cannot exhaust the trader's budget", () => {
    const own = traderOrIp({ ip: '10.0.0.1', body: { trader: victim }, headers: {} });
    const attacker = traderOrIp({ ip: '10.0.0.2', body: { trader: victim }, headers: {} });
    assert.notEqual(own, attacker);
    // The header and the body name the same account the same way (lower-cased).
    assert.equal(traderOrIp({ ip: '10.0.0.1', headers: { 'x-parallax-trader': victim.toUpperCase().replace('0X', '0x') } }), own);
  });

  it('falls back to the IP when no well-formed trader is named', () => {
    assert.equal(traderOrIp({ ip: '10.0.0.3', body: { trader: 'nobody' }, headers: {} }), 'ip:10.0.0.3');
  });
});
