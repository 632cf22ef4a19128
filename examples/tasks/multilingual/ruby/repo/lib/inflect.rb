# frozen_string_literal: true

# English plurals for the common regular cases.
module Inflect
  SIBILANT_ENDINGS = %w[s x z ch sh].freeze
  VOWELS = %w[a e i o u].freeze

  module_function

  # The plural of a singular English noun: "box" -> "boxes",
  # "city" -> "cities", "day" -> "days", "book" -> "books".
  def pluralize(word)
    raise ArgumentError, 'empty word' if word.empty?

    return "#{word}es" if SIBILANT_ENDINGS.any? { |ending| word.end_with?(ending) }
    return "#{word[0..-2]}ies" if word.end_with?('y')

    "#{word}s"
  end
end
