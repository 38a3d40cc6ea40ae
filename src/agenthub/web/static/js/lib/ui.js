// The one door to the vendored view library: Preact with its hooks, and `html`, htm's tagged
// templates bound to Preact (no build step, no JSX). Pages import from here, not from vendor/.
import { h, render, Fragment, createContext, createRef } from 'preact';
import {
  useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useContext, useReducer, useId,
} from '../../vendor/preact-hooks.module.js';
import htm from '../../vendor/htm.module.js';

export const html = htm.bind(h);
export {
  h, render, Fragment, createContext, createRef,
  useState, useEffect, useLayoutEffect, useRef, useMemo, useCallback, useContext, useReducer, useId,
};
