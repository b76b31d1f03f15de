import { render } from 'preact';
import { App } from './app';
import './styles.css';

const root = document.getElementById('root')!;
// The static "Loading…" is for the moments before this script runs; Preact does not own it.
root.replaceChildren();
render(<App />, root);
performance.mark('rampart-rendered');
