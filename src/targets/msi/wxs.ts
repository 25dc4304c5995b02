// The WiX v3 source: the MSI model as the view of templates/msi/*.wxs.hbs (every value XML-escaped here).
// One source for both toolsets: blocks only the WiX toolset understands sit in
// <?if $(var.Toolset) = "wix" ?>; wixl (-D Toolset=wixl) gets the same tables by post-processing (wixl.ts).
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import type { Product } from '../../product/model.ts';
import { definitionName } from '../../render/envfile.ts';
import { xmlAttr } from './escape.ts';
import type { MsiComponent, MsiDirectory, MsiModel } from './model.ts';

const yes = (b: boolean) => (b ? 'yes' : 'no');

function componentView(c: MsiComponent) {
  return {
    id: c.id,
    guid: c.guid,
    neverOverwrite: c.neverOverwrite,
    createFolder: c.createFolder,
    files: c.files.map((f) => ({ id: f.id, name: xmlAttr(f.name), source: xmlAttr(f.source), keyPath: yes(f.keyPath), permissions: f.lockedTo.map(xmlAttr) })),
    services: c.services.map((s) => ({
      id: s.id,
      name: xmlAttr(s.name),
      displayName: xmlAttr(s.displayName),
      description: xmlAttr(s.description),
      arguments: xmlAttr(s.arguments),
      dependencies: s.dependencies.map(xmlAttr),
      recovery: s.recovery && { resetSeconds: s.recovery.resetSeconds, delays: [s.recovery.delayMs, s.recovery.delayMs, s.recovery.delayMs] },
    })),
    registry: c.registry.map((r) => ({ id: r.id, key: xmlAttr(r.key), name: xmlAttr(r.name), type: r.type, value: xmlAttr(r.value) })),
    pathEntry: c.pathEntry && { id: c.pathEntry.id, value: `[${c.pathEntry.directory}]` },
  };
}

function directoryView(d: MsiDirectory): object {
  return { id: d.id, name: xmlAttr(d.name), components: d.components.map(componentView), dirs: d.dirs.map(directoryView) };
}

export function renderWxs(product: Product, model: MsiModel, cabinet: string): string {
  return renderTemplate('msi/product.wxs.hbs', {
    notice: generatedNotice(definitionName(product)),
    productCode: model.productCode,
    upgradeCode: model.upgradeCode,
    name: xmlAttr(model.name),
    version: model.version,
    manufacturer: xmlAttr(model.manufacturer),
    description: xmlAttr(model.description),
    homepage: xmlAttr(model.homepage),
    downgradeMessage: xmlAttr(`A newer version of ${model.name} is already installed.`.replace(/[[\]{}]/g, (c) => `[\\${c}]`)),
    cabinet,
    installDir: { parent: model.installDir.parent, ...directoryView(model.installDir) },
    dataDir: { parent: model.dataDir.parent, ...directoryView(model.dataDir) },
    componentRefs: model.components.map((c) => c.id),
  });
}
