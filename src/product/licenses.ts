// License texts for the Debian copyright file (DEP-5). Licenses Debian ships in /usr/share/common-licenses
// are referenced (lintian wants that); short permissive ones that it does not ship are embedded from their
// standard SPDX text, with the copyright holder in the Copyright: field. Data of the product model: the load
// checks product.license against it, and the deb target writes the copyright file from it.

export interface CommonLicense {
  /** DEP-5 short name. */
  name: string;
  /** File below /usr/share/common-licenses. */
  file: string;
  title: string;
}

export const COMMON_LICENSES: Record<string, CommonLicense> = {
  'Apache-2.0': { name: 'Apache-2.0', file: 'Apache-2.0', title: 'the Apache License, Version 2.0' },
  'GPL-2.0-only': { name: 'GPL-2', file: 'GPL-2', title: 'the GNU General Public License version 2' },
  'GPL-2.0-or-later': { name: 'GPL-2+', file: 'GPL-2', title: 'the GNU General Public License version 2' },
  'GPL-3.0-only': { name: 'GPL-3', file: 'GPL-3', title: 'the GNU General Public License version 3' },
  'GPL-3.0-or-later': { name: 'GPL-3+', file: 'GPL-3', title: 'the GNU General Public License version 3' },
  'LGPL-2.1-only': { name: 'LGPL-2.1', file: 'LGPL-2.1', title: 'the GNU Lesser General Public License version 2.1' },
  'LGPL-2.1-or-later': { name: 'LGPL-2.1+', file: 'LGPL-2.1', title: 'the GNU Lesser General Public License version 2.1' },
  'LGPL-3.0-only': { name: 'LGPL-3', file: 'LGPL-3', title: 'the GNU Lesser General Public License version 3' },
  'LGPL-3.0-or-later': { name: 'LGPL-3+', file: 'LGPL-3', title: 'the GNU Lesser General Public License version 3' },
  'MPL-2.0': { name: 'MPL-2.0', file: 'MPL-2.0', title: 'the Mozilla Public License, Version 2.0' },
  'CC0-1.0': { name: 'CC0-1.0', file: 'CC0-1.0', title: 'the Creative Commons CC0 1.0 Universal license' },
};

const NO_WARRANTY_CAPS =
  'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.';

/** Standard texts (SPDX), one paragraph per entry, without the copyright line. DEP-5 names in `name`. */
export const EMBEDDED_LICENSES: Record<string, { name: string; paragraphs: string[] }> = {
  MIT: {
    name: 'Expat',
    paragraphs: [
      'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:',
      'The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.',
      'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.',
    ],
  },
  ISC: {
    name: 'ISC',
    paragraphs: [
      'Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted, provided that the above copyright notice and this permission notice appear in all copies.',
      'THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.',
    ],
  },
  'BSD-2-Clause': {
    name: 'BSD-2-clause',
    paragraphs: [
      'Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:',
      '1. Redistributions of source code must retain the above copyright notice, this list of conditions and the following disclaimer.',
      '2. Redistributions in binary form must reproduce the above copyright notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided with the distribution.',
      NO_WARRANTY_CAPS,
    ],
  },
  'BSD-3-Clause': {
    name: 'BSD-3-clause',
    paragraphs: [
      'Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:',
      '1. Redistributions of source code must retain the above copyright notice, this list of conditions and the following disclaimer.',
      '2. Redistributions in binary form must reproduce the above copyright notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided with the distribution.',
      '3. Neither the name of the copyright holder nor the names of its contributors may be used to endorse or promote products derived from this software without specific prior written permission.',
      NO_WARRANTY_CAPS,
    ],
  },
};
