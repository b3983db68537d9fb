// `npm run lint` (and so `make lint`): the TypeScript-aware recommended rules plus the
// react-hooks rules, which catch hooks called conditionally and effects with stale dependencies.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig([
  { ignores: ["dist/", "node_modules/"] },
  {
    files: ["**/*.{ts,tsx,js}"],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.browser },
    rules: {
      // `node: _node` drops a prop on purpose (react-markdown's components).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [reactHooks.configs.flat.recommended],
    rules: {
      // A stale dependency is a real bug here (a socket bound to an old session), not a style point.
      "react-hooks/exhaustive-deps": "error",
    },
  },
  {
    // A file name with a control character is refused: matching them is the point.
    files: ["src/uploads.ts"],
    rules: { "no-control-regex": "off" },
  },
  {
    // The socket effect clears the previous conversation's state when the endpoint changes,
    // in the same commit that opens the new socket, so the old thread never shows under the
    // new tab.
    files: ["src/useChat.ts"],
    rules: { "react-hooks/set-state-in-effect": "off" },
  },
]);
