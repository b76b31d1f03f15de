import { useState } from 'preact/hooks';
import type { ApiError } from '../api-client';
import { ErrorNotice } from '../components';

export function SignIn({ error, onSignIn }: { error: ApiError | null; onSignIn: (key: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <main id="main" class="sign-in">
      <h1>Rampart</h1>
      <p>Sign in with an API key. It stays in this tab only (session storage) and is sent as the bearer token to the admin API.</p>
      <ErrorNotice error={error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onSignIn(value.trim());
        }}
      >
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
