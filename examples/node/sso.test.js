// A Node test suite against ssod: @sendgrid/client, unchanged but for the
// base URL, with Node's own test runner. Run: SSOD_BIN=/path/to/ssod node --test
'use strict';
const { test, before, beforeEach, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { Client } = require('@sendgrid/client');
const { startSSOD } = require('./ssod');

// The repository's example seed: two accounts, their keys, two
// integrations and two certificates, all with fixed ids and key strings.
const seedFile = path.join(__dirname, '..', 'seed.json');
const seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
const key = seed.keys.find((k) => k.account === 'main').key;
const okta = seed.integrations.find((i) => i.name === 'Okta');

let ssod;
const client = new Client();

before(async () => {
  ssod = await startSSOD({ seed: seedFile });
  client.setApiKey(key);
  client.setDefaultRequest('baseUrl', ssod.url); // after setApiKey, which sets SendGrid's
});
beforeEach(() => ssod.reset()); // every test starts from the same state
after(() => ssod.stop());

const newIdP = {
  name: 'Auth0', enabled: true,
  signin_url: 'https://example.okta.com/app/sso/saml',
  signout_url: 'https://example.okta.com/login/signout',
  entity_id: 'http://www.okta.com/exk1',
};

test('the seed is there, with its ids', async () => {
  const [, certs] = await client.request({ method: 'GET', url: `/v3/sso/integrations/${okta.id}/certificates` });
  assert.deepEqual(certs.map((c) => c.id), [7, 8]);
});

test('create an integration and delete a seeded one', async () => {
  const [created] = await client.request({ method: 'POST', url: '/v3/sso/integrations', body: newIdP });
  assert.equal(created.statusCode, 200);
  await client.request({ method: 'DELETE', url: `/v3/sso/integrations/${okta.id}` });
  const [, list] = await client.request({ method: 'GET', url: '/v3/sso/integrations' });
  assert.deepEqual(list.map((i) => i.name), ['Auth0']);
});

test('the reset before this test put back exactly the seed', async () => {
  const [, list] = await client.request({ method: 'GET', url: '/v3/sso/integrations' });
  assert.deepEqual(list.map((i) => i.id), [okta.id]);
});

test('the journal shows what the client sent, without the key', async () => {
  await client.request({ method: 'POST', url: '/v3/sso/integrations', body: newIdP });
  const [sent] = await ssod.requests('?method=POST&path=/v3/sso/integrations');
  assert.equal(JSON.parse(sent.body).entity_id, newIdP.entity_id);
  assert.equal(sent.headers.Authorization, `Bearer ${key.slice(0, 25)}.***`);
  assert.equal(sent.status, 200);
});

test('an injected 503 reaches the caller as SendGrid error', async () => {
  await ssod.fault({ method: 'GET', path: '/v3/sso/integrations', status: 503, times: 1 });
  await assert.rejects(client.request({ method: 'GET', url: '/v3/sso/integrations' }), (err) => {
    assert.equal(err.code, 503);
    assert.equal(err.response.body[0].error_id, 'unavailable');
    return true;
  });
  const [ok] = await client.request({ method: 'GET', url: '/v3/sso/integrations' });
  assert.equal(ok.statusCode, 200);
});
