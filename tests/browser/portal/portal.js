// What a portal does with each service, written as a portal would: fetch() with a bearer token,
// a create with Idempotency-Key (sent twice: the second answer is the replay), a read whose
// exposed ETag goes back in If-Match on the update. The results go back to the test, which
// judges them. These fetches do not retry on 429/503 (Retry-After): the test's services run
// with their default limits, far above the handful of calls made here.
"use strict";

async function call(base, method, path, token, { body, headers = {} } = {}) {
  const init = { method, headers: { Authorization: "Bearer " + token, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(base + path, init);
    const text = await response.text();
    return {
      status: response.status,
      etag: response.headers.get("ETag"),
      location: response.headers.get("Location"),
      replayed: response.headers.get("Idempotent-Replayed"),
      requestId: response.headers.get("X-Request-Id"),
      body: text ? JSON.parse(text) : null,
    };
  } catch (error) {
    // What a page sees when the browser blocks a cross-origin call: a TypeError, nothing else.
    return { blocked: true, error: String(error) };
  }
}

// One service: spec = {base, token, list, create: {path, body}, update: {method, suffix, body}}.
async function exercise(spec, key) {
  const token = spec.token;
  const out = {};
  out.list = await call(spec.base, "GET", spec.list, token);
  const idempotency = { headers: { "Idempotency-Key": key } };
  out.create = await call(spec.base, "POST", spec.create.path, token,
                          { body: spec.create.body, ...idempotency });
  if (out.create.blocked || out.create.status !== 201) return out;
  out.replay = await call(spec.base, "POST", spec.create.path, token,
                          { body: spec.create.body, ...idempotency });
  const item = spec.create.path + "/" + out.create.body.id;
  out.read = await call(spec.base, "GET", item, token);
  if (out.read.blocked || !out.read.etag) return out;
  out.update = await call(spec.base, spec.update.method, item + (spec.update.suffix || ""), token,
                          { body: spec.update.body, headers: { "If-Match": out.read.etag } });
  out.stale = await call(spec.base, spec.update.method, item + (spec.update.suffix || ""), token,
                         { body: spec.update.body, headers: { "If-Match": out.read.etag } });
  return out;
}

window.runPortal = async ({ services, key }) => {
  const results = {};
  for (const [name, spec] of Object.entries(services)) {
    results[name] = await exercise(spec, key + "-" + name);
  }
  return results;
};
