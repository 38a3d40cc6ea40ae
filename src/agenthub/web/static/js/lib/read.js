// Reading from the API in a component: {data, error, loading, reload} of `read()`, read again
// when `key` changes or on reload(); an answer that comes after the component moved on is dropped.
import { useEffect, useState } from './ui.js';

export function useRead(read, key = '') {
  const [state, setState] = useState({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((old) => ({ ...old, loading: true }));
    read().then((data) => current && setState({ data }), (error) => current && setState({ error }));
    return () => { current = false; };
  }, [key, round]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}
