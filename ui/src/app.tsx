import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createApiClient } from './api-client';
import { ErrorNotice, SessionContext, type Session } from './components';
import { AppsPage } from './pages/apps-page';
import { DevicePage } from './pages/device-page';
import { ReleasePage } from './pages/release-page';
import { SettingsPage } from './pages/settings-page';
import { SignIn } from './pages/sign-in';
import { href, interceptLinks, useRoute, type Route } from './router';
import type { Me } from './types';

/** Per tab, gone when the tab closes: a key on a shared screen should not outlive the session. */
const KEY_STORAGE = 'rampart.apiKey';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'apps':
      return <AppsPage />;
    case 'release':
      return <ReleasePage id={route.id} />;
    case 'device':
      return <DevicePage appId={route.appId} deviceId={route.deviceId} />;
    case 'settings':
      return <SettingsPage appId={route.appId} />;
    case 'missing':
      return (
        <p>
          No such page. <a href={href.apps()}>Go to the apps</a>.
        </p>
      );
  }
}

export function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY_STORAGE));
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const route = useRoute();

  const signOut = (reason: ApiError | null) => {
    sessionStorage.removeItem(KEY_STORAGE);
    setKey(null);
    setMe(null);
    setError(reason);
  };

  const api = useMemo(() => (key ? createApiClient(key, signOut) : null), [key]);

  useEffect(() => {
    if (!api) return;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api.get<Me>('/v1/me').then(
        (who) => {
          setMe(who);
          setError(null);
        },
        (err: unknown) => {
          const failure = err instanceof ApiError ? err : new ApiError(0, 'client', String(err));
          setError(failure);
          if (failure.stackDown) retry = setTimeout(() => void load(), 5000);
        },
      );
    void load();
    return () => clearTimeout(retry);
  }, [api]);

  useEffect(() => {
    addEventListener('click', interceptLinks);
    return () => removeEventListener('click', interceptLinks);
  }, []);

  if (!api) {
    return (
      <SignIn
        error={error}
        onSignIn={(value) => {
          sessionStorage.setItem(KEY_STORAGE, value);
          setError(null);
          setKey(value);
        }}
      />
    );
  }
  if (!me) {
    return <main id="main">{error ? <ErrorNotice error={error} /> : <p role="status">Signing in…</p>}</main>;
  }
  const session: Session = { api, me };
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.apps()}>
          Rampart
        </a>
        <nav aria-label="Main">
          <a href={href.apps()}>Apps</a>
        </nav>
        <span class="who">
          {me.name} · <span data-testid="role">{me.role}</span>
          {me.appIds ? ` · ${me.appIds.join(', ')}` : ''}
        </span>
        <button type="button" class="link" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page key={JSON.stringify(route)} route={route} />
      </main>
    </SessionContext.Provider>
  );
}
