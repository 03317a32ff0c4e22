/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the UI with hot reload and forwards the API to a running
// `atelier serve` (ATELIER_API, default http://127.0.0.1:8000), WebSocket included.
const api = process.env.ATELIER_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: api, ws: true },
      "/v1": api,
      "/docs": api,
      "/openapi.json": api,
    },
  },
  build: {
    target: "es2022",
    manifest: true,
    // raw size; the real budget is gzip, checked by scripts/size-budget.mjs
    chunkSizeWarningLimit: 500,
  },
  test: {
    environment: "happy-dom",
    environmentOptions: { happyDOM: { url: "http://localhost:5173/" } },
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
