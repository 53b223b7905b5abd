// The snndsl VS Code extension: the language (highlighting via the TextMate grammar) and a client that
// starts `snndsl lsp` over stdio for diagnostics, hover, definition, outline, completion and formatting.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("snndsl");
  const serverOptions = {
    command: config.get("server.command", "snndsl"),
    args: config.get("server.args", ["lsp"]),
    transport: TransportKind.stdio, // the client adds `--stdio`, which `snndsl lsp` accepts
  };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "snn" },
      { scheme: "untitled", language: "snn" },
    ],
    initializationOptions: { debounceMs: config.get("debounceMs", 30) },
  };
  client = new LanguageClient("snndsl", "snndsl language server", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("snndsl.restartServer", () => client.restart()),
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
