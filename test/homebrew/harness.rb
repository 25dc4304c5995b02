# frozen_string_literal: true

# A tiny stand-in for the part of Homebrew's formula DSL our tap uses. Homebrew itself cannot be installed on
# the build machine, so this loads a formula as Homebrew would for one OS/arch and prints what it resolved to:
# url, sha256, dependencies, the install steps and the service block.
#
# usage: ruby harness.rb FORMULA.rb macos|linux arm|intel PREFIX [ARCHIVE_MEMBER...]
# With archive members (e.g. bin/x share/doc/x/LICENSE), `install` runs where Homebrew would run it: in the unpacked
# archive, stepping into its only top-level folder when there is just one (Homebrew's UnpackStrategy does so).
require "fileutils"
require "json"
require "pathname"
require "tmpdir"

FORMULA_PATH, TARGET_OS, TARGET_ARCH, PREFIX, *ARCHIVE_MEMBERS = ARGV
abort "usage: harness.rb FORMULA.rb macos|linux arm|intel PREFIX [ARCHIVE_MEMBER...]" unless FORMULA_PATH && TARGET_OS && TARGET_ARCH && PREFIX

module Hardware
  module CPU
    def self.arm? = TARGET_ARCH == "arm"
    def self.intel? = TARGET_ARCH == "intel"
    def self.is_64_bit? = true
  end
end

module OS
  def self.mac? = TARGET_OS == "macos"
  def self.linux? = TARGET_OS == "linux"
end

# Records a `service do` block: every key Homebrew's Service DSL accepts that we use.
class ServiceRecorder
  attr_reader :data

  def initialize(formula)
    @formula = formula
    @data = {}
  end

  %i[run keep_alive throttle_interval working_dir log_path error_log_path environment_variables
     restart_delay run_type process_type].each do |key|
    define_method(key) { |*args, **kw| @data[key] = kw.empty? ? (args.length == 1 ? args.first : args) : kw }
  end

  def method_missing(name, *args)
    return @formula.send(name, *args) if @formula.respond_to?(name)

    raise NoMethodError, "service block uses #{name}, which Homebrew's Service DSL does not have"
  end

  def respond_to_missing?(name, include_private = false) = @formula.respond_to?(name) || super
  def std_service_path_env = "#{PREFIX}/bin:#{PREFIX}/sbin:/usr/bin:/bin:/usr/sbin:/sbin"
end

# Records install-time file operations instead of performing them on a keg.
class KegDir
  attr_reader :installed

  def initialize(path, log)
    @path = Pathname(path)
    @log = log
  end

  def install(*files) = files.each { |f| @log << { "op" => "install", "dir" => @path.to_s, "file" => f } }
  def /(other) = @path / other
  def to_s = @path.to_s
end

class Formula
  class << self
    attr_reader :fields, :deps, :service_block, :test_block

    def inherited(sub)
      super
      sub.instance_variable_set(:@fields, {})
      sub.instance_variable_set(:@deps, [])
      $formula_class = sub
    end

    %i[desc homepage license url sha256 version].each do |key|
      define_method(key) do |value|
        raise "#{key} set twice for one OS/arch (#{@fields[key]} and #{value})" if @fields.key?(key) && %i[url sha256].include?(key)

        @fields[key] = value
      end
    end

    def livecheck(&) = nil
    def depends_on(dep) = @deps << dep
    def on_macos(&block) = (OS.mac? ? class_eval(&block) : nil)
    def on_linux(&block) = (OS.linux? ? class_eval(&block) : nil)
    def on_arm(&block) = (Hardware::CPU.arm? ? class_eval(&block) : nil)
    def on_intel(&block) = (Hardware::CPU.intel? ? class_eval(&block) : nil)
    def service(&block) = (@service_block = block)
    def test(&block) = (@test_block = block)
  end

  attr_reader :ops

  def initialize(root)
    @root = Pathname(root)
    @ops = []
  end

  def opt_bin = Pathname("#{PREFIX}/opt/#{name}/bin")
  def opt_libexec = Pathname("#{PREFIX}/opt/#{name}/libexec")
  def var = Pathname("#{PREFIX}/var")
  def etc = Pathname("#{PREFIX}/etc")
  def bin = KegDir.new(@root / "bin", @ops)
  # Homebrew's Pathname#write creates the parent directory; emulate that by creating libexec up front.
  def libexec = (@root / "libexec").tap(&:mkpath)
  def name = File.basename(FORMULA_PATH, ".rb")
  def chmod(mode, path) = @ops << { "op" => "chmod", "mode" => mode.to_s(8), "path" => path.to_s }

  # The test block: shell_output's command line is recorded, then split into words by /bin/sh (printf).
  attr_reader :test_command

  def shell_output(cmd, *) = (@test_command = cmd) && ""
  def assert_match(*) = nil
  def version = "0"
end

load FORMULA_PATH
klass = $formula_class
def in_unpacked_archive(&block)
  Dir.mktmpdir do |stage|
    ARCHIVE_MEMBERS.each do |m|
      FileUtils.mkdir_p(File.dirname(File.join(stage, m)))
      FileUtils.touch(File.join(stage, m))
    end
    tops = Dir.children(stage)
    dir = tops.length == 1 && File.directory?(File.join(stage, tops[0])) ? File.join(stage, tops[0]) : stage
    Dir.chdir(dir, &block)
  end
end

Dir.mktmpdir do |keg|
  formula = klass.new(keg)
  in_unpacked_archive { formula.install }
  launcher = Dir.glob("#{keg}/libexec/*").map { |f| { "name" => File.basename(f), "content" => File.read(f) } }
  service = nil
  if klass.service_block
    recorder = ServiceRecorder.new(formula)
    recorder.instance_eval(&klass.service_block)
    service = recorder.data.transform_keys(&:to_s).transform_values do |v|
      case v
      when Array then v.map(&:to_s)
      when Hash then v.transform_keys(&:to_s).transform_values(&:to_s)
      else v.to_s
      end
    end
  end
  test_argv = nil
  if klass.test_block
    formula.instance_eval(&klass.test_block)
    words = IO.popen(["/bin/sh", "-c", "printf '%s\\0' #{formula.test_command}"], &:read).split("\0")
    test_argv = [File.basename(words.first), *words.drop(1)]
  end
  puts JSON.pretty_generate(
    "class" => klass.name,
    "fields" => klass.fields.transform_keys(&:to_s),
    "depends_on" => klass.deps,
    "install" => formula.ops,
    "libexec" => launcher,
    "service" => service,
    "has_test" => !klass.test_block.nil?,
    "test_argv" => test_argv,
  )
end
