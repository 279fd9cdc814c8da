// A Node test suite against ssod: @sendgrid/client, unchanged but for the
// base URL, with Node's own test runner. Run: SSOD_BIN=/path/to/ssod node --test
'use strict';
const { test, before, beforeEach, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('@sendgrid/client');
const { startSSOD } = require('./ssod');

let ssod;
const client = new Client();

before(async () => {
  ssod = await startSSOD();
  client.setApiKey(ssod.firstKey);
  client.setDefaultRequest('baseUrl', ssod.url); // after setApiKey, which sets SendGrid's
});
beforeEach(() => ssod.reset()); // every test starts from the same state
after(() => ssod.stop());

const okta = {
  name: 'Okta', enabled: true,
  signin_url: 'https://example.okta.com/app/sso/saml',
  signout_url: 'https://example.okta.com/login/signout',
  entity_id: 'http://www.okta.com/exk1',
};

test('create and list an integration', async () => {
  const [created] = await client.request({ method: 'POST', url: '/v3/sso/integrations', body: okta });
  assert.equal(created.statusCode, 200);
  const [, list] = await client.request({ method: 'GET', url: '/v3/sso/integrations' });
  assert.deepEqual(list.map((i) => i.name), ['Okta']);
});

test('the reset before this test removed the integration', async () => {
  const [, list] = await client.request({ method: 'GET', url: '/v3/sso/integrations' });
  assert.deepEqual(list, []);
});

test('the journal shows what the client sent, without the key', async () => {
  await client.request({ method: 'POST', url: '/v3/sso/integrations', body: okta });
  const [sent] = await ssod.requests('?method=POST&path=/v3/sso/integrations');
  assert.equal(JSON.parse(sent.body).entity_id, okta.entity_id);
  assert.match(sent.headers.Authorization, /^Bearer SG\.[\w-]{22}\.\*\*\*$/);
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
