"""Random cdefs, emitted by CFFI 2.1.1, as corpus-shaped cases: the
differential oracle behind tests/random_vs_cffi.rs.

    python random_cdefs.py OUTDIR FIRST_SEED COUNT

For every seed, writes OUTDIR/<seed>.json (a case.json as the corpus README
describes it: ops over one or two FFIs, included_sources, target) and either
OUTDIR/<seed>.expected (CFFI's output, byte for byte) or OUTDIR/<seed>.error
(the exception CFFI raised). A seed always gives the same case.

The generator mixes what real cdefs contain: structs and unions (nested
anonymous ones, bitfields, `...;`, `[...]` and open arrays, function-pointer
and pointer-to-array fields), opaque structs, enums (negative, 64-bit,
expressions, `...`), typedefs of every kind (`int...`, `float...`, `...`,
`... *`, function pointers), functions (variadic, struct and long double
and complex results, struct arguments), global variables and arrays,
macros, static constants, extern "Python" (+C, blocks), packed/pack,
second cdef() calls (with override=True redeclarations), ffi.include() of
another FFI, and embedding. ABI-mode cases leave out what
CFFI cannot emit to Python.
"""
import io
import json
import os
import random
import sys
import warnings

PRIMS = [
    'char', 'signed char', 'unsigned char', 'short', 'unsigned short', 'int',
    'unsigned int', 'long', 'unsigned long', 'long long', 'unsigned long long',
    'float', 'double', 'long double', '_Bool', 'int8_t', 'uint8_t', 'int16_t',
    'uint16_t', 'int32_t', 'uint32_t', 'int64_t', 'uint64_t', 'size_t',
    'ssize_t', 'intptr_t', 'uintptr_t', 'ptrdiff_t', 'wchar_t', 'char16_t',
    'char32_t', 'intmax_t', 'uint_least8_t', 'int_fast32_t', 'bool', 'FILE *',
    'float _Complex', 'double _Complex', 'unsigned', 'signed', 'short int',
    'long long int', 'unsigned long int', 'long int',
]


class Gen:
    def __init__(self, r, abi, prefix=''):
        self.r, self.abi, self.p = r, abi, prefix
        self.out, self.structs, self.typedefs, self.enums = [], [], [], []
        self.names = set()

    def name(self, kind):
        while True:
            n = '%s%s%d' % (self.p, kind, self.r.randrange(10000))
            if n not in self.names:
                self.names.add(n)
                return n

    def ty(self, allow_void=False):
        r = self.r
        c = r.random()
        base = r.choice(PRIMS)
        if c < .15 and self.structs:
            base = r.choice(self.structs)
        elif c < .25 and self.typedefs:
            base = r.choice(self.typedefs)
        elif c < .3 and self.enums:
            base = r.choice(self.enums)
        elif c < .33 and allow_void:
            base = 'void'
        t = r.choice(['', '', '', 'const ', 'volatile ']) + base
        if r.random() < .3 or base == 'void':
            t += ' *'
        if r.random() < .1:
            t += ' *'
        if r.random() < .1:
            t += ' const'
        return t

    def args(self, lo, hi):
        return ', '.join(self.ty() for _ in range(self.r.randint(lo, hi))) or 'void'

    def decl(self, t, name, arrays=True):
        r = self.r
        c = r.random()
        if arrays and c < .1:
            return '%s %s[%d]' % (t, name, r.randint(1, 9))
        if arrays and c < .13:
            return '%s %s[%d][%d]' % (t, name, r.randint(1, 4), r.randint(1, 4))
        if c < .2:
            return '%s (*%s)(%s)' % (self.ty(True), name, self.args(0, 3))
        if arrays and c < .23:
            return '%s (*%s)[%d]' % (t, name, r.randint(1, 5))
        if arrays and c < .25:
            return '%s (*%s[%d])(int)' % (self.ty(True), name, r.randint(1, 3))
        if arrays and c < .27:
            return '%s %s[2*3+1]' % (t, name)
        return '%s %s' % (t, name)

    def struct(self):
        r, out = self.r, self.out
        kw = r.choice(['struct', 'struct', 'union'])
        n = self.name('s')
        fields = []
        for j in range(r.randint(1, 6)):
            f = r.random()
            if f < .1:
                fields.append('%s b%d : %d;' % (
                    r.choice(['int', 'unsigned int', 'unsigned char', 'long']), j, r.randint(1, 7)))
            elif f < .15:
                fields.append('%s { int a%d; char c%d; };' % (r.choice(['struct', 'union']), j, j))
            elif f < .2:
                fields.append('struct { int x%d; } n%d;' % (j, j))
            elif f < .23:
                fields.append('union { struct { int p%d; short q%d; }; long double ld%d; };' % (j, j, j))
            elif f < .26 and not self.abi:
                fields.append('%s arr%d[...];' % (self.ty(), j))
            elif f < .28 and j:
                fields.append('int flex%d[];' % j)
            else:
                fields.append(self.decl(self.ty(), 'f%d' % j) + ';')
        if not self.abi and r.random() < .15 and not any(':' in x for x in fields):
            fields.append('...;')
        body = ' '.join(fields)
        if r.random() < .4:
            out.append('typedef %s { %s } %s_t;' % (kw, body, n))
            self.typedefs.append(n + '_t')
        else:
            out.append('%s %s { %s };' % (kw, n, body))
            self.structs.append('%s %s' % (kw, n))
            if r.random() < .3:
                out.append('typedef %s %s %s_t;' % (kw, n, n))
                self.typedefs.append(n + '_t')

    def enum(self):
        r = self.r
        n = self.name('e')
        u = n.upper()
        vals = []
        for j in range(r.randint(1, 5)):
            if r.random() < .3:
                v = r.choice([-5, 0, 7, 0x7fffffff, -0x80000000, 0x100000000, 255])
                vals.append('%s_%d = %d' % (u, j, v))
            elif j and r.random() < .2:
                vals.append('%s_%d = %s_%d + 1' % (u, j, u, j - 1))
            elif r.random() < .1:
                vals.append('%s_%d = 1 << %d' % (u, j, r.randint(0, 20)))
            else:
                vals.append('%s_%d' % (u, j))
        if not self.abi and r.random() < .15:
            vals.append('...')
        if r.random() < .3:
            self.out.append('typedef enum { %s } %s_t;' % (', '.join(vals), n))
            self.typedefs.append(n + '_t')
        else:
            self.out.append('enum %s { %s };' % (n, ', '.join(vals)))
            self.enums.append('enum ' + n)

    def typedef(self):
        r = self.r
        n = self.name('t')
        c = r.random()
        if self.abi and c < .4:
            self.out.append('typedef long %s;' % n)
        elif c < .2:
            self.out.append('typedef int... %s;' % n)
        elif c < .3:
            self.out.append('typedef ... %s;' % n)
        elif c < .4:
            self.out.append('typedef ... *%s;' % n)
        elif c < .5:
            self.out.append('typedef %s (*%s)(%s, %s);' % (self.ty(True), n, self.ty(), self.ty()))
        elif c < .55 and not self.abi:
            self.out.append('typedef float... %s;' % n)
        else:
            self.out.append('typedef %s;' % self.decl(self.ty(), n))
        self.typedefs.append(n)

    def function(self):
        r = self.r
        n = self.name('fn')
        args = [self.decl(self.ty(), 'a%d' % j, arrays=False) for j in range(r.randint(0, 4))]
        res = self.ty(True)
        if r.random() < .1 and self.structs:
            res = r.choice(self.structs)
        if r.random() < .1 and self.structs:
            args.append(r.choice(self.structs) + ' sv')
        if r.random() < .05:
            res = r.choice(['long double', 'float _Complex', 'double _Complex'])
        va = ', ...' if args and r.random() < .1 else ''
        self.out.append('%s %s(%s%s);' % (res, n, ', '.join(args) or 'void', va))

    def constant(self):
        r = self.r
        n = self.name('K')
        c = r.random()
        if c < .4:
            values = ['42', '-1', '0x10', '0777', '100000000000'] + ([] if self.abi else ['...'])
            self.out.append('#define %s %s' % (n, r.choice(values)))
        elif c < .7:
            self.out.append('static const int %s;' % n)
        elif c < .8:
            self.out.append('static const int %s = %d;' % (n, r.randint(-9, 99)))
        elif c < .9:
            self.out.append('static const %s %s;' % (r.choice(['double', 'char *', 'float']), n))
        else:
            self.out.append('static char *const %s;' % n)

    def extern_python(self):
        r = self.r
        n = self.name('py')
        kind = r.choice(['"Python"', '"Python"', '"Python+C"'])
        one = '%s %s(%s)' % (self.ty(True), n, self.args(0, 3))
        if r.random() < .3:
            self.out.append('extern %s { %s; int %sb(long double, int); }' % (kind, one, n))
        else:
            self.out.append('extern %s %s;' % (kind, one))

    def generate(self, python_callbacks=True):
        r = self.r
        for _ in range(r.randint(1, 12)):
            k = r.random()
            if k < .25:
                self.struct()
            elif k < .3:
                n = self.name('o')
                self.out.append('struct %s;' % n)
                if r.random() < .5:
                    self.out.append('typedef struct %s %s_t;' % (n, n))
                    self.typedefs.append(n + '_t *')
            elif k < .4:
                self.enum()
            elif k < .5:
                self.typedef()
            elif k < .75:
                self.function()
            elif k < .83:
                n = self.name('g')
                if r.random() < .2 and not self.abi:
                    self.out.append('extern %s %s[...];' % (self.ty(), n))
                else:
                    self.out.append('extern %s;' % self.decl(self.ty(), n))
            elif k < .9:
                self.constant()
            elif python_callbacks and not self.abi:
                self.extern_python()
        return '\n'.join(self.out) + '\n'


def make_case(seed):
    r = random.Random(seed)
    target = r.choice(['c', 'py'])
    abi = target == 'py'
    ops, included = [], {}
    if r.random() < .4:
        base = Gen(random.Random(seed * 7 + 1), abi, prefix='i').generate(python_callbacks=False)
        ops.append({'op': 'cdef', 'ffi': 'f2', 'csource': base, 'override': False,
                    'packed': False, 'pack': None, 'dllexport': False})
        ops.append({'op': 'include', 'ffi': 'f1', 'other': 'f2'})
        included['f2'] = {'module_name': 'incmod', 'source': None if abi else ''}
    packed = r.random() < .2
    pack = None if packed else r.choice([None, None, 1, 2, 4] if abi else [None, None, 1])
    main_gen = Gen(random.Random(seed), abi)
    ops.append({'op': 'cdef', 'ffi': 'f1', 'csource': main_gen.generate(),
                'override': False, 'packed': packed, 'pack': pack, 'dllexport': False})
    if r.random() < .2:
        # a second cdef() on the same FFI: new declarations using the first
        # one's types, and (override=True) functions redeclared
        more = Gen(random.Random(seed * 7 + 2), abi, prefix='x')
        more.structs, more.typedefs, more.enums = (
            main_gen.structs, main_gen.typedefs, main_gen.enums)
        text = more.generate(python_callbacks=False)
        override = r.random() < .5
        if override:
            text += ''.join('long %s(int);\n' % line.split('(')[0].split()[-1].lstrip('*')
                            for line in main_gen.out
                            if line.endswith(');') and ' fn' in line.split('(')[0])
        ops.append({'op': 'cdef', 'ffi': 'f1', 'csource': text, 'override': override,
                    'packed': False, 'pack': None, 'dllexport': False})
    if not abi and r.random() < .15:
        ops.append({'op': 'cdef', 'ffi': 'f1', 'csource': 'int exported_%d(int, long);\n' % seed,
                    'override': False, 'packed': False, 'pack': None, 'dllexport': True})
        ops.append({'op': 'embedding_init_code', 'ffi': 'f1',
                    'pysource': '\n    from pkg.m import ffi\n    @ffi.def_extern()\n'
                                '    def exported(x, y):  # caf\u00e9\n        return x\n'})
    return {'id': str(seed), 'target': target, 'module_name': 'pkg.m',
            'preamble': '' if target == 'c' else None, 'target_ffi': 'f1',
            'ops': ops, 'included_sources': included}


def run_cffi(case):
    import cffi
    from cffi import recompiler
    ffis = {}
    for op in case['ops']:
        f = ffis.setdefault(op['ffi'], cffi.FFI())
        if op['op'] == 'cdef':
            if op['dllexport']:
                f.embedding_api(op['csource'], packed=op['packed'], pack=op['pack'])
            else:
                f.cdef(op['csource'], override=op['override'], packed=op['packed'], pack=op['pack'])
        elif op['op'] == 'include':
            other = ffis.setdefault(op['other'], cffi.FFI())
            src = case['included_sources'][op['other']]
            other.set_source(src['module_name'], src['source'])
            f.include(other)
        else:
            f.embedding_init_code(op['pysource'])
    out = io.StringIO()
    if case['target'] == 'c':
        recompiler.make_c_source(ffis['f1'], case['module_name'], case['preamble'], out)
    else:
        recompiler.make_py_source(ffis['f1'], case['module_name'], out)
    return out.getvalue()


def main():
    outdir, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    warnings.simplefilter('ignore')
    os.makedirs(outdir, exist_ok=True)
    for seed in range(first, first + count):
        case = make_case(seed)
        with open(os.path.join(outdir, '%d.json' % seed), 'w', encoding='utf-8') as f:
            json.dump(case, f)
        try:
            text, name = run_cffi(case), '%d.expected' % seed
        except Exception as e:
            text, name = '%s: %s' % (type(e).__name__, e), '%d.error' % seed
        with open(os.path.join(outdir, name), 'w', encoding='utf-8', newline='') as f:
            f.write(text)


if __name__ == '__main__':
    main()
