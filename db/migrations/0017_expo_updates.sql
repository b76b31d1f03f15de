-- Expo Updates v1: a bundle registered for Expo carries, per platform, the manifest expo-updates
-- reads (launch asset and assets with key, content type, extension, URL and base64url SHA-256).
-- update_id is the manifest id, stable for the bundle and platform.
CREATE TABLE IF NOT EXISTS expo_updates (
  app_id                TEXT NOT NULL,
  version               TEXT NOT NULL,
  platform              TEXT NOT NULL CHECK (platform IN ('ios', 'android')),
  update_id             UUID NOT NULL UNIQUE,
  runtime_version       TEXT NOT NULL,
  launch_asset          JSONB NOT NULL,
  assets                JSONB NOT NULL,
  metadata              JSONB NOT NULL DEFAULT '{}',
  extra                 JSONB NOT NULL DEFAULT '{}',
  asset_request_headers JSONB NOT NULL DEFAULT '{}',
  PRIMARY KEY (app_id, version, platform),
  FOREIGN KEY (app_id, version) REFERENCES bundles (app_id, version)
);

-- A rollback to an earlier bundle re-issues its manifest under a new id and a newer creation time
-- (the client only moves to a more recent update). The id is written before any device is sent it,
-- so a device reporting it can always be told which bundle it runs.
CREATE TABLE IF NOT EXISTS expo_update_reissues (
  update_id  UUID PRIMARY KEY,
  app_id     TEXT NOT NULL,
  version    TEXT NOT NULL,
  platform   TEXT NOT NULL,
  release_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  FOREIGN KEY (app_id, version) REFERENCES bundles (app_id, version)
);

-- The per-app RSA key expo-updates code signing verifies manifests with (rsa-v1_5-sha256), and the
-- self-signed certificate the app embeds. The private key is sealed by the application.
CREATE TABLE IF NOT EXISTS app_expo_code_signing (
  app_id          TEXT PRIMARY KEY REFERENCES apps (id),
  key_id          TEXT NOT NULL,
  certificate_pem TEXT NOT NULL,
  private_key     TEXT NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
