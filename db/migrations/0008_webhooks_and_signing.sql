-- Every device answer is signed with its app's Ed25519 key. Private halves are sealed (AES-256-GCM
-- with RAMPART_SECRETS_KEY) by the application; apps created before this get their key at the API's
-- next start. A rotated key stays published until published_until, so devices can switch over.
CREATE TABLE IF NOT EXISTS app_signing_keys (
  id              TEXT PRIMARY KEY,
  app_id          TEXT NOT NULL REFERENCES apps (id),
  public_key      TEXT NOT NULL,
  private_key     TEXT NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  retired_at      TIMESTAMPTZ,
  published_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX IF NOT EXISTS app_signing_keys_one_active ON app_signing_keys (app_id) WHERE retired_at IS NULL;

-- The symmetric key generated for every app was never used; the key pairs above replace it.
ALTER TABLE apps DROP COLUMN IF EXISTS signing_key;

-- Bundle URLs must be https unless the app says otherwise.
ALTER TABLE apps ADD COLUMN IF NOT EXISTS allow_http_bundles BOOLEAN NOT NULL DEFAULT false;

-- Capgo's RSA-encrypted checksum of an encrypted bundle (sent instead of sha256), and the publisher's
-- own signature passed to devices as it is.
ALTER TABLE bundles ADD COLUMN IF NOT EXISTS encrypted_checksum TEXT;
ALTER TABLE bundles ADD COLUMN IF NOT EXISTS signature TEXT;

-- webhooks.url and webhooks.secret are sealed by the application from now on. Rows written before
-- are read as plaintext and sealed when a process starts with the key (the key never reaches SQL).
